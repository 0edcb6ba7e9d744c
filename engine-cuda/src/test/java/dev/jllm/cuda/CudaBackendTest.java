package dev.jllm.cuda;

import dev.jllm.engine.Models;
import dev.jllm.engine.spi.Backend;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** The CUDA backend is found through ServiceLoader and says why it cannot run where it cannot. */
class CudaBackendTest {
    @Test
    void registeredAsAService() {
        Backend cuda = Models.backends().stream().filter(b -> b.name().equals("cuda")).findFirst().orElseThrow();
        assertTrue(cuda instanceof CudaBackend);
        assertTrue(cuda.priority() < 0, "below the CPU backend until verified on a GPU");
    }

    @Test
    void withoutADeviceTheCpuIsChosenAndAskingForCudaNamesTheReason() {
        assumeFalse(CudaAvailability.probe().available(), "a CUDA device is present");
        assertEquals("cpu", Models.backend(null).name());
        var e = assertThrows(IllegalStateException.class, () -> Models.backend("cuda"));
        assertTrue(e.getMessage().contains("backend 'cuda' is not available"), e.getMessage());
        assertTrue(e.getMessage().contains(CudaAvailability.probe().reason()), e.getMessage());
    }
}
