package dev.jllm.engine.llama;

import static org.junit.jupiter.api.Assertions.*;

import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.LoadOptions;
import dev.jllm.engine.Models;
import dev.jllm.engine.kv.KvCache;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The engine against reference runs (../shared/golden): greedy ids identical and logits within tolerance.
 */
class GoldenTest {
    /** Two exact F32 implementations agree within ~2e-5 (README); the issue asks for 1e-4 absolute. */
    static final float F32_LOGITS_TOLERANCE = 1e-4f;

    static Path need(Path p) {
        Assumptions.assumeTrue(Files.exists(p), "shared reference data missing: " + p);
        return p;
    }

    /**
     * Free-running greedy generation: prompt, then each argmax fed back; row i of the reference logits is what
     * chose generated token i.
     */
    @ParameterizedTest(name = "{0} vs {1}")
    @CsvSource({
            "models/stories260K/stories260K.gguf, stories260K.llamacpp.kvf32",
            "models/stories260K/stories260K.gguf, stories260K.llama2c",
            "models/tinystories656K/TinyStories-656K-f32.gguf, ts656k.llamacpp.f32.kvf32",
            "models/tinystories656K/TinyStories-656K-f32.gguf, ts656k.hf",
    })
    void greedyF32(String model, String ref) throws IOException {
        Path modelPath = need(Golden.SHARED.resolve(model));
        int[] prompt, expectIds;
        if (ref.endsWith("llama2c")) {
            prompt = new int[] {1, 403, 407, 261, 378};
            // lines "[id a -> b]": the transitions after the last prompt token are the generated ids
            int[] next = java.util.regex.Pattern.compile("-> (\\d+)")
                    .matcher(Files.readString(need(Golden.DIR.resolve(ref + ".ids.txt")))).results()
                    .mapToInt(r -> Integer.parseInt(r.group(1))).toArray();
            expectIds = Arrays.copyOfRange(next, prompt.length - 1, next.length);
        } else {
            String json = Files.readString(need(Golden.DIR.resolve(ref + ".json")));
            prompt = Golden.intArray(json, "prompt_ids");
            expectIds = Golden.intArray(json, "generated_ids");
        }
        try (LanguageModel m = Models.load(modelPath, LoadOptions.DEFAULT)) {
            float[][] expectLogits = Golden.f32(need(Golden.DIR.resolve(ref + ".logits.f32")), m.config().vocabSize());
            assertEquals(expectIds.length, expectLogits.length);
            KvCache cache = m.newCache();
            float[] logits = m.forward(cache, prompt);
            int[] ids = new int[expectIds.length];
            float worst = 0;
            for (int i = 0; i < ids.length; i++) {
                float d = Golden.maxAbsDiff(logits, expectLogits[i]);
                worst = Math.max(worst, d);
                assertTrue(d <= F32_LOGITS_TOLERANCE, ref + ": logits row " + i + " differ by " + d);
                ids[i] = Golden.argmax(logits);
                if (i + 1 < ids.length) logits = m.forward(cache, ids[i]);
            }
            assertArrayEquals(expectIds, ids, ref + ": greedy ids");
            System.out.printf("golden %s: %d ids identical, max |logit diff| %.3g%n", ref, ids.length, worst);
        }
    }

    /**
     * Tiny random-weight models of each family against HF transformers (fp32): teacher-forced prompt logits
     * (one full pass), then free-running greedy ids and the logits that chose them.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"llama2-mha", "llama3-ropescale", "mixtral-moe", "mistral-swa"})
    void randomFamilies(String name) throws IOException {
        Path dir = Golden.DIR.resolve("random").resolve(name);
        Path gguf = need(dir.resolve(name + "-f32.gguf"));
        String json = Files.readString(need(dir.resolve("reference.json")));
        int[] prompt = Golden.intArray(json, "prompt_ids");
        int[] expectIds = Golden.intArray(json, "generated_ids");
        try (LanguageModel m = Models.load(gguf, LoadOptions.DEFAULT)) {
            int vocab = m.config().vocabSize();
            if (name.equals("mistral-swa")) assertEquals(8, m.config().slidingWindow(), "window read from the GGUF");
            float[][] promptLogits = Golden.f32(need(dir.resolve("a.prompt_logits.f32")), vocab);
            float[][] genLogits = Golden.f32(need(dir.resolve("a.gen_logits.f32")), vocab);
            float[][] all = m.forwardAll(m.newCache(), prompt);
            float worst = 0;
            for (int i = 0; i < prompt.length; i++) {
                float d = Golden.maxAbsDiff(all[i], promptLogits[i]);
                worst = Math.max(worst, d);
                assertTrue(d <= F32_LOGITS_TOLERANCE, name + ": prompt logits row " + i + " differ by " + d);
            }
            KvCache cache = m.newCache();
            float[] logits = m.forward(cache, prompt);
            int[] ids = new int[expectIds.length];
            for (int i = 0; i < ids.length; i++) {
                float d = Golden.maxAbsDiff(logits, genLogits[i]);
                worst = Math.max(worst, d);
                assertTrue(d <= F32_LOGITS_TOLERANCE, name + ": generation logits row " + i + " differ by " + d);
                ids[i] = Golden.argmax(logits);
                if (i + 1 < ids.length) logits = m.forward(cache, ids[i]);
            }
            assertArrayEquals(expectIds, ids, name + ": greedy ids");
            System.out.printf("golden random/%s: prompt %d + %d ids identical, max |logit diff| %.3g%n", name,
                    prompt.length, ids.length, worst);
        }
    }

    /** The window matters for mistral-swa: without it the prompt logits move far (so the test above can fail). */
    @org.junit.jupiter.api.Test
    void mistralWindowMatters() throws IOException {
        Path dir = Golden.DIR.resolve("random/mistral-swa");
        Path gguf = need(dir.resolve("mistral-swa-f32.gguf"));
        int[] prompt = Golden.intArray(Files.readString(need(dir.resolve("reference.json"))), "prompt_ids");
        try (LanguageModel m = Models.load(gguf, LoadOptions.DEFAULT.withSlidingWindow(0))) {
            float[][] expect = Golden.f32(need(dir.resolve("a.prompt_logits.f32")), m.config().vocabSize());
            float[] last = m.forwardAll(m.newCache(), prompt)[prompt.length - 1];
            assertTrue(Golden.maxAbsDiff(last, expect[prompt.length - 1]) > 1, "no window: logits should be far off");
        }
    }

    /**
     * Quantized weights against llama.cpp's runs (F16 KV cache, its default; 8-bit activations in the products),
     * teacher-forced: the prompt, then llama.cpp's generated ids one decode step at a time. Our kernels and F16
     * attention reproduce its arithmetic: rows agree to ~2e-6 until the first +-1 flip of a rounding (an 8-bit
     * activation or an F16 value at a tie, seen at row 13 for Q4_0 and row 31 for Q8_0); the flip stays in the
     * cache and later rows differ by up to ~0.32, 0.025 on average (logits up to ~24 in magnitude). For scale, F32 weights against
     * llama.cpp's Q4_0 run differ by 3.3.
     */
    static final float QUANT_EXACT_TOLERANCE = 1e-4f;
    static final int QUANT_EXACT_ROWS = 12;
    static final float QUANT_LOGITS_MAX_TOLERANCE = 0.5f;
    static final float QUANT_LOGITS_MEAN_TOLERANCE = 0.036f;
    /** Rows whose argmax must equal llama.cpp's id, of 64. */
    static final int QUANT_MIN_ARGMAX_AGREEMENT = 58;

    @ParameterizedTest(name = "{0}")
    @CsvSource({"Q8_0", "Q4_0"})
    void quantizedTeacherForced(String type) throws IOException {
        Path gguf = need(Golden.SHARED.resolve("models/tinystories656K/TinyStories-656K-" + type + ".gguf"));
        String ref = "ts656k.llamacpp." + type;
        String json = Files.readString(need(Golden.DIR.resolve(ref + ".json")));
        int[] prompt = Golden.intArray(json, "prompt_ids");
        int[] gen = Golden.intArray(json, "generated_ids");
        try (LanguageModel m = Models.load(gguf, LoadOptions.DEFAULT)) {
            int vocab = m.config().vocabSize();
            float[][] expect = Golden.f32(need(Golden.DIR.resolve(ref + ".logits.f32")), vocab);
            KvCache cache = m.newCache(dev.jllm.engine.kv.KvCacheOptions.of(dev.jllm.engine.kv.KvType.F16));
            float[] row = m.forward(cache, prompt);
            float worst = 0, worstExact = 0;
            double sum = 0;
            int sameArgmax = 0;
            for (int i = 0; i < gen.length; i++) {
                float d = Golden.maxAbsDiff(row, expect[i]);
                worst = Math.max(worst, d);
                if (i < QUANT_EXACT_ROWS) {
                    worstExact = Math.max(worstExact, d);
                    assertTrue(d <= QUANT_EXACT_TOLERANCE, ref + ": logits row " + i + " differ by " + d);
                }
                assertTrue(d <= QUANT_LOGITS_MAX_TOLERANCE, ref + ": logits row " + i + " differ by " + d);
                for (int j = 0; j < vocab; j++) sum += Math.abs(row[j] - expect[i][j]);
                if (Golden.argmax(row) == gen[i]) sameArgmax++;
                if (i + 1 < gen.length) row = m.forward(cache, gen[i]);
            }
            double mean = sum / gen.length / vocab;
            System.out.printf("golden %s teacher-forced: first %d rows within %.2g, all rows max %.3g mean %.3g, argmax agrees %d/%d%n",
                    ref, QUANT_EXACT_ROWS, worstExact, worst, mean, sameArgmax, gen.length);
            assertTrue(mean <= QUANT_LOGITS_MEAN_TOLERANCE, ref + ": mean |logit diff| " + mean);
            assertTrue(sameArgmax >= QUANT_MIN_ARGMAX_AGREEMENT, ref + ": argmax agrees on " + sameArgmax + " rows");
        }
    }
}
