package dev.jllm.engine.model.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jllm.engine.LoadOptions;
import dev.jllm.engine.kv.KvCache;
import dev.jllm.engine.llama.Transformer;
import dev.jllm.engine.safetensors.Json;
import dev.jllm.engine.sample.Logits;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * HF checkpoints against HF transformers (fp32, eager attention): the prompt's logits at every position (full pass)
 * and greedy generation (cached decode) with identical ids and logits per step.
 */
class HfGoldenTest {
    /** Two exact F32 implementations agree within ~2e-5 here (shared/README.md); the issue asks for 1e-4. */
    static final float F32_LOGIT_TOLERANCE = 1e-4f;
    static final Path SHARED = Path.of(System.getProperty("jllm.shared.dir", "../shared"));

    @ParameterizedTest
    @ValueSource(strings = {"llama2-mha", "llama3-ropescale", "mixtral-moe", "mistral-swa", "llama4-text"})
    void randomModelMatchesTransformers(String name) throws IOException {
        randomModel(name, LoadOptions.DEFAULT);
    }

    /** The same with the scalar reference kernels (the fast F32 path must not be what makes it pass). */
    @ParameterizedTest
    @ValueSource(strings = {"llama3-ropescale", "mixtral-moe", "llama4-text"})
    void randomModelMatchesTransformersWithReferenceKernels(String name) throws IOException {
        randomModel(name, LoadOptions.DEFAULT.withReferenceKernels(true));
    }

    static void randomModel(String name, LoadOptions options) throws IOException {
        Path dir = SHARED.resolve("golden/random").resolve(name);
        Assumptions.assumeTrue(Files.isDirectory(dir.resolve("hf")), "shared reference data not found at " + dir);
        Map<?, ?> ref = (Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) Json.parse(Files.readString(dir.resolve("reference.json"))))
                .get("cases")).get("a");
        int[] prompt = ints((List<?>) ref.get("prompt_ids"));
        int[] expectedIds = ints((List<?>) ref.get("generated_ids"));
        try (Transformer model = HfModelLoader.load(dir.resolve("hf"), options)) {
            int vocab = model.config().vocabSize();
            float[] promptLogits = readF32(dir.resolve("a.prompt_logits.f32"), prompt.length * vocab);
            KvCache cache = model.newCache();
            float[][] all = model.forwardAll(cache, prompt);
            for (int i = 0; i < prompt.length; i++) {
                assertClose(promptLogits, i * vocab, all[i], name + " prompt position " + i);
            }
            float[] genLogits = readF32(dir.resolve("a.gen_logits.f32"), expectedIds.length * vocab);
            int[] ids = greedy(model, cache, all[prompt.length - 1], expectedIds.length, genLogits, name);
            assertArrayEquals(expectedIds, ids, name + ": greedy ids");
            report(name + (options.referenceKernels() ? " (ref)" : ""));
        }
    }

    /** The window matters: without it the logits move by as much as HF measured (window-check.json). */
    @org.junit.jupiter.api.Test
    void mistralWithoutItsWindowMovesAsMuchAsInTransformers() throws IOException {
        Path dir = SHARED.resolve("golden/random/mistral-swa");
        Assumptions.assumeTrue(Files.isRegularFile(dir.resolve("window-check.json")), "shared reference data not found at " + dir);
        double hfDiff = ((Number) ((Map<?, ?>) Json.parse(Files.readString(dir.resolve("window-check.json"))))
                .get("max_abs_logit_diff_without_window")).doubleValue();
        Map<?, ?> ref = (Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) Json.parse(Files.readString(dir.resolve("reference.json"))))
                .get("cases")).get("a");
        int[] prompt = ints((List<?>) ref.get("prompt_ids"));
        try (Transformer model = HfModelLoader.load(dir.resolve("hf"), LoadOptions.DEFAULT.withSlidingWindow(0))) {
            assertEquals(0, model.config().slidingWindow());
            float[] expected = readF32(dir.resolve("a.prompt_logits.f32"), prompt.length * 2048);
            float[][] all = model.forwardAll(model.newCache(), prompt);
            float worst = 0;
            for (int i = 0; i < prompt.length; i++) {
                for (int j = 0; j < 2048; j++) worst = Math.max(worst, Math.abs(expected[i * 2048 + j] - all[i][j]));
            }
            assertEquals(hfDiff, worst, 1e-3, "max |logit diff| without the window");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tinystories656K"})
    void tinyStoriesMatchesTransformers(String ignored) throws IOException {
        Path hf = SHARED.resolve("models/tinystories656K/hf");
        Path golden = SHARED.resolve("golden");
        Assumptions.assumeTrue(Files.isDirectory(hf) && Files.isRegularFile(golden.resolve("ts656k.hf.json")),
                "shared model or reference not found under " + SHARED);
        Map<?, ?> ref = (Map<?, ?>) Json.parse(Files.readString(golden.resolve("ts656k.hf.json")));
        int[] prompt = ints((List<?>) ref.get("prompt_ids"));
        int[] expectedIds = ints((List<?>) ref.get("generated_ids"));
        try (Transformer model = HfModelLoader.load(hf, LoadOptions.DEFAULT)) {
            int vocab = model.config().vocabSize();
            float[] genLogits = readF32(golden.resolve("ts656k.hf.logits.f32"), expectedIds.length * vocab);
            KvCache cache = model.newCache();
            float[] first = model.forward(cache, prompt);
            int[] ids = greedy(model, cache, first, expectedIds.length, genLogits, "ts656k");
            assertArrayEquals(expectedIds, ids, "ts656k: greedy ids");
            report("tinystories656K");
        }
    }

    /** Free-running greedy decode from {@code first}, checking each step's logits against the reference rows. */
    static int[] greedy(Transformer model, KvCache cache, float[] first, int steps, float[] refLogits, String name) {
        int vocab = model.config().vocabSize();
        int[] ids = new int[steps];
        float[] logits = first;
        for (int i = 0; i < steps; i++) {
            assertClose(refLogits, i * vocab, logits, name + " generated token " + i);
            ids[i] = Logits.argmax(logits, vocab);
            if (i + 1 < steps) logits = model.forward(cache, ids[i]);
        }
        return ids;
    }

    /** Largest difference seen by {@link #assertClose} since the last {@link #report}. */
    static float maxSeen;

    static void report(String name) {
        System.out.printf("HF golden %-18s max |logit diff| %.3g (tolerance %.0e)%n", name, maxSeen, F32_LOGIT_TOLERANCE);
        maxSeen = 0;
    }

    static void assertClose(float[] expected, int off, float[] actual, String where) {
        float worst = 0;
        int at = -1;
        for (int j = 0; j < actual.length; j++) {
            float d = Math.abs(expected[off + j] - actual[j]);
            if (!(d <= worst)) {
                worst = d;
                at = j;
            }
        }
        maxSeen = Math.max(maxSeen, worst);
        assertTrue(worst <= F32_LOGIT_TOLERANCE, where + ": max |logit diff| " + worst + " at token " + at
                + " (expected " + (at < 0 ? "" : expected[off + at]) + ", got " + (at < 0 ? "" : actual[at]) + ")");
    }

    static int[] ints(List<?> l) {
        int[] a = new int[l.size()];
        for (int i = 0; i < a.length; i++) a[i] = ((Number) l.get(i)).intValue();
        return a;
    }

    static float[] readF32(Path file, int count) throws IOException {
        byte[] b = Files.readAllBytes(file);
        assertEquals(4L * count, b.length, file + ": size");
        float[] f = new float[count];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }
}
