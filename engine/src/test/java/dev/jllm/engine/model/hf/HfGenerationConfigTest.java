package dev.jllm.engine.model.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class HfGenerationConfigTest {
    @Test
    void llama3StyleListOfStopIdsAndSamplingDefaults() {
        HfGenerationConfig g = HfGenerationConfig.parse("""
                {"bos_token_id": 128000, "do_sample": true, "eos_token_id": [128001, 128008, 128009],
                 "temperature": 0.6, "top_p": 0.9, "transformers_version": "4.45.0"}""", "gen.json");
        assertArrayEquals(new int[] {128001, 128008, 128009}, g.eosIds());
        assertEquals(0.6f, g.defaults().temperature());
        assertEquals(0.9f, g.defaults().topP());
        assertEquals(50, g.defaults().topK()); // transformers' default when do_sample is on
    }

    @Test
    void noSamplingMeansGreedy() throws IOException {
        Path dir = Path.of(System.getProperty("jllm.shared.dir", "../shared")).resolve("models/tinystories656K/hf");
        Assumptions.assumeTrue(Files.isDirectory(dir), "shared model not found at " + dir);
        HfGenerationConfig g = HfGenerationConfig.read(dir);
        assertArrayEquals(new int[] {2}, g.eosIds());
        assertTrue(g.defaults().isGreedy());
    }
}
