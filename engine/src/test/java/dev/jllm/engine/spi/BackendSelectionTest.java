package dev.jllm.engine.spi;

import static org.junit.jupiter.api.Assertions.*;

import dev.jllm.engine.Models;
import org.junit.jupiter.api.Test;

class BackendSelectionTest {
    @Test
    void cpuIsChosenWhenTheOthersAreUnavailable() {
        assertTrue(Models.backends().stream().anyMatch(b -> b.name().equals("test-gpu")), "found by ServiceLoader");
        assertEquals("cpu", Models.backend(null).name());
    }

    @Test
    void askingForAnUnavailableBackendSaysWhy() {
        var e = assertThrows(IllegalStateException.class, () -> Models.backend("test-gpu"));
        assertTrue(e.getMessage().contains("no test GPU here"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> Models.backend("tpu"));
        assertTrue(e2.getMessage().contains("cpu"), e2.getMessage());
    }
}
