package dev.jllm.engine.model;

import static org.junit.jupiter.api.Assertions.*;

import dev.jllm.engine.LoadOptions;
import dev.jllm.gguf.GgufFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class GgufConfigTest {
    static final Path SHARED = Path.of(System.getProperty("jllm.shared.dir", "../shared"));

    static GgufFile open(String rel) throws IOException {
        Path p = SHARED.resolve(rel);
        Assumptions.assumeTrue(Files.exists(p), "shared model missing: " + p);
        return GgufFile.open(p);
    }

    @Test
    void stories260K() throws IOException {
        try (GgufFile f = open("models/stories260K/stories260K.gguf")) {
            ModelConfig c = GgufConfig.read(f);
            assertEquals(64, c.dim());
            assertEquals(5, c.nLayers());
            assertEquals(8, c.nHeads());
            assertEquals(4, c.nKvHeads());
            assertEquals(8, c.headDim());
            assertEquals(172, c.ffnDim());
            assertEquals(512, c.vocabSize());
            assertEquals(1e-5f, c.normEps(), 1e-9f);
            assertEquals(10000, c.rope().theta());
            assertEquals(RopeConfig.Style.ADJACENT, c.rope().style());
            assertFalse(c.tiedEmbeddings(), "this file has an output.weight (a copy)");
            assertEquals(0, c.slidingWindow());
            assertEquals(0, c.nExperts());
            assertEquals(1, c.bosId());
            assertEquals(2, c.eosId());
            assertEquals(2, c.groupSize());
        }
    }

    @Test
    void tinyStoriesIsTied() throws IOException {
        try (GgufFile f = open("models/tinystories656K/TinyStories-656K-Q8_0.gguf")) {
            ModelConfig c = GgufConfig.read(f);
            assertTrue(c.tiedEmbeddings());
            assertEquals(512, c.contextLength());
            assertEquals(1e-6f, c.normEps(), 1e-10f);
        }
    }

    @Test
    void mixtralAndMistral() throws IOException {
        try (GgufFile f = open("golden/random/mixtral-moe/mixtral-moe-f32.gguf")) {
            ModelConfig c = GgufConfig.read(f);
            assertEquals(8, c.nExperts());
            assertEquals(2, c.nExpertsUsed());
            assertEquals(96, c.expertFfnDim());
            assertEquals(LayerSpec.FfnKind.MOE, c.layer(1).ffn());
            assertEquals(1e6, c.rope().theta());
            try (var m = dev.jllm.engine.llama.Transformer.class.cast(GgufModelLoader.load(f, LoadOptions.DEFAULT))) {
                // per layer: attention 4 * 64*64-ish + 2 of 8 experts (3 * 64*96 floats each) + router + norms
                long attention = (64 * 64 + 64 * 32 + 64 * 32 + 64 * 64) * 4L;
                long experts = 2 * 3 * 64 * 96 * 4L;
                long perLayer = attention + experts + 64 * 8 * 4L + 2 * 64 * 4L;
                long expect = 2 * perLayer + 64 * 4L /* output norm */ + 2048 * 64 * 4L /* output */ + 64 * 4L /* one row */;
                assertEquals(expect, m.weightBytes());
            }
        }
        try (GgufFile f = open("golden/random/mistral-swa/mistral-swa-f32.gguf")) {
            ModelConfig c = GgufConfig.read(f);
            assertEquals(8, c.slidingWindow());
            assertEquals(LayerSpec.AttentionKind.SLIDING, c.layer(2).attention());
            assertEquals(8, c.layer(0).cacheCapacity(512));
            assertEquals(3, c.layer(0).firstVisible(10));
            ModelConfig off = GgufModelLoader.config(f, LoadOptions.DEFAULT.withSlidingWindow(0));
            assertEquals(LayerSpec.AttentionKind.GLOBAL, off.layer(0).attention());
            assertEquals(512, off.layer(0).cacheCapacity(512));
            ModelConfig other = GgufModelLoader.config(f, LoadOptions.DEFAULT.withSlidingWindow(4).withContextLength(64));
            assertEquals(4, other.slidingWindow());
            assertEquals(64, other.contextLength());
        }
    }

    /**
     * llama.cpp's converter computed {@code rope_freqs.weight} from the HF config's llama3 parameters (factor 8, low
     * 1, high 4, original context 16): our formula from those parameters must give the same frequencies.
     */
    @Test
    void llama3ScalingFormulaMatchesTheConvertersFactors() throws IOException {
        try (GgufFile f = open("golden/random/llama3-ropescale/llama3-ropescale-f32.gguf")) {
            ModelConfig c = GgufConfig.read(f);
            assertEquals("freq_factors", c.rope().scaling().type());
            double[] fromTensor = c.rope().inverseFrequencies();
            RopeConfig formula = new RopeConfig(5e5, 16, RopeConfig.Style.ADJACENT, RopeConfig.Scaling.llama3(8, 1, 4, 16));
            double[] fromFormula = formula.inverseFrequencies();
            double[] unscaled = new RopeConfig(5e5, 16, RopeConfig.Style.ADJACENT, RopeConfig.Scaling.NONE).inverseFrequencies();
            boolean changed = false;
            for (int i = 0; i < fromTensor.length; i++) {
                assertEquals(fromTensor[i], fromFormula[i], fromTensor[i] * 1e-6, "pair " + i);
                changed |= Math.abs(fromFormula[i] - unscaled[i]) > unscaled[i] * 1e-3;
            }
            assertTrue(changed, "scaling changes some frequencies here");
        }
    }

    @Test
    void ropeStylesAgreeUnderPermutation() {
        // a head of 8 rotated half-split equals the same head rotated adjacent after interleaving its halves
        dev.jllm.engine.llama.Rope adj = new dev.jllm.engine.llama.Rope(
                new RopeConfig(10000, 8, RopeConfig.Style.ADJACENT, RopeConfig.Scaling.NONE));
        dev.jllm.engine.llama.Rope half = new dev.jllm.engine.llama.Rope(
                new RopeConfig(10000, 8, RopeConfig.Style.HALF_SPLIT, RopeConfig.Scaling.NONE));
        float[] h = {1, 2, 3, 4, 5, 6, 7, 8};
        float[] a = {1, 5, 2, 6, 3, 7, 4, 8}; // (i, i + 4) -> (2i, 2i + 1)
        float[] cs = new float[8];
        adj.angles(7, cs);
        adj.rotate(a, 0, 1, 8, cs);
        half.rotate(h, 0, 1, 8, cs);
        for (int i = 0; i < 4; i++) {
            assertEquals(h[i], a[2 * i], 1e-6f);
            assertEquals(h[i + 4], a[2 * i + 1], 1e-6f);
        }
        assertNotEquals(1f, h[1], 1e-3f, "rotated");
    }
}
