package dev.jllm.cuda.model;

import dev.jllm.cuda.CudaAvailability;
import dev.jllm.cuda.CudaBackend;
import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.LoadOptions;
import dev.jllm.engine.Models;
import dev.jllm.engine.kv.KvCache;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * End to end on a GPU: greedy ids identical to the goldens (llama.cpp for the real tiny models, HF
 * transformers for the random-weight families) and to the CPU backend; prompt logits close to HF's and
 * to the CPU backend's. Skipped, with the reason, without a CUDA device.
 */
class EndToEndGpuTest {
    /** Max |logit difference| against an FP32 reference (float sums in another order). */
    static final float LOGIT_ABS_TOL = 1e-3f;

    private static void assumeGpu() {
        CudaAvailability.Probe p = CudaAvailability.probe();
        assumeTrue(p.available(), () -> "no CUDA device: " + p.reason());
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    private static int[] greedy(LanguageModel m, int[] prompt, int n) {
        KvCache cache = m.newCache();
        float[] logits = m.forward(cache, prompt);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = argmax(logits);
            if (i + 1 < n) logits = m.forward(cache, out[i]);
        }
        return out;
    }

    private static float maxAbsDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    private void check(Goldens.Case g) throws IOException {
        assumeGpu();
        assumeTrue(Files.exists(g.gguf()), "shared model missing: " + g.gguf());
        try (LanguageModel gpu = new CudaBackend().load(g.gguf(), LoadOptions.DEFAULT);
             LanguageModel cpu = Models.load(g.gguf(), LoadOptions.DEFAULT.withBackend("cpu"))) {
            int n = g.generated().length;
            int[] ids = greedy(gpu, g.prompt(), n);
            assertArrayEquals(g.generated(), ids, g.name() + ": greedy ids vs the golden");
            assertArrayEquals(greedy(cpu, g.prompt(), n), ids, g.name() + ": greedy ids vs the CPU backend");
            float[][] gpuAll = gpu.forwardAll(gpu.newCache(), g.prompt());
            float[][] cpuAll = cpu.forwardAll(cpu.newCache(), g.prompt());
            float[][] ref = g.promptLogits() == null ? null : Goldens.logits(g.promptLogits(), g.prompt().length, gpu.config().vocabSize());
            for (int t = 0; t < g.prompt().length; t++) {
                float dc = maxAbsDiff(cpuAll[t], gpuAll[t]);
                assertTrue(dc <= LOGIT_ABS_TOL, g.name() + " prompt token " + t + ": |gpu - cpu| = " + dc);
                if (ref != null) {
                    float dr = maxAbsDiff(ref[t], gpuAll[t]);
                    assertTrue(dr <= LOGIT_ABS_TOL, g.name() + " prompt token " + t + ": |gpu - HF| = " + dr);
                }
            }
        }
    }

    @Test
    void graphReplaysAndDirectLaunchesAgreeBitForBit() throws IOException {
        assumeGpu();
        Goldens.Case g = Goldens.stories260K();
        assumeTrue(Files.exists(g.gguf()), "shared model missing: " + g.gguf());
        float[][] withGraphs, direct;
        try (LanguageModel m = new CudaBackend().load(g.gguf(), LoadOptions.DEFAULT)) {
            withGraphs = decodeLogits(m, g.prompt(), 20);
        }
        System.setProperty("jllm.cuda.nographs", "true");
        try (LanguageModel m = new CudaBackend().load(g.gguf(), LoadOptions.DEFAULT)) {
            direct = decodeLogits(m, g.prompt(), 20);
        } finally {
            System.clearProperty("jllm.cuda.nographs");
        }
        for (int i = 0; i < withGraphs.length; i++) assertArrayEquals(direct[i], withGraphs[i], 0f, "step " + i);
    }

    /** Layers split over two pipeline stages (two streams of the device, event hand-overs): identical results. */
    @Test
    void twoPipelineStagesGiveIdenticalResults() throws IOException {
        assumeGpu();
        for (Goldens.Case g : new Goldens.Case[]{Goldens.stories260K(), Goldens.random("mixtral-moe")}) {
            assumeTrue(Files.exists(g.gguf()), "shared model missing: " + g.gguf());
            float[][] one, two;
            try (LanguageModel m = new CudaBackend().load(g.gguf(), LoadOptions.DEFAULT)) {
                one = decodeLogits(m, g.prompt(), 12);
            }
            System.setProperty("jllm.cuda.stages", "2");
            try (LanguageModel m = new CudaBackend().load(g.gguf(), LoadOptions.DEFAULT)) {
                two = decodeLogits(m, g.prompt(), 12);
            } finally {
                System.clearProperty("jllm.cuda.stages");
            }
            for (int i = 0; i < one.length; i++) assertArrayEquals(one[i], two[i], 0f, g.name() + " step " + i);
        }
    }

    private static float[][] decodeLogits(LanguageModel m, int[] prompt, int n) {
        KvCache cache = m.newCache();
        float[][] out = new float[n][];
        float[] logits = m.forward(cache, prompt);
        for (int i = 0; i < n; i++) {
            out[i] = logits;
            logits = m.forward(cache, argmax(logits));
        }
        return out;
    }

    @Test
    void stories260K() throws IOException {
        check(Goldens.stories260K());
    }

    @Test
    void tinyStories656K() throws IOException {
        check(Goldens.ts656k());
    }

    @Test
    void llama2Mha() throws IOException {
        check(Goldens.random("llama2-mha"));
    }

    @Test
    void llama3RopeScaling() throws IOException {
        check(Goldens.random("llama3-ropescale"));
    }

    @Test
    void mixtralMoe() throws IOException {
        check(Goldens.random("mixtral-moe"));
    }

    @Test
    void mistralSlidingWindow() throws IOException {
        check(Goldens.random("mistral-swa"));
    }
}
