package dev.jllm.engine.llama;

import static org.junit.jupiter.api.Assertions.*;

import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.LoadOptions;
import dev.jllm.engine.Models;
import dev.jllm.engine.SequenceChunk;
import dev.jllm.engine.bench.Shapes;
import dev.jllm.engine.bench.SyntheticGguf;
import dev.jllm.engine.kv.KvCache;
import dev.jllm.gguf.GgmlType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Random-weight models of each family written by {@link SyntheticGguf} in every weight type: the whole forward
 * pass with the fast kernels against the same model on the scalar reference kernels, and the batching
 * equivalences on the quantized types.
 */
class SyntheticModelTest {
    /**
     * Fast vs reference kernels over a whole model: the same weights, products summed in another order (and, for
     * float types, no activation quantization on either side), logits of a random model are O(1).
     */
    static final float FLOAT_KERNELS_TOLERANCE = 1e-4f;
    /**
     * Quantized types: the fast kernels quantize activations to 8 bits as llama.cpp does, the reference does not;
     * that moves the logits of these random models by up to ~0.02 (measured).
     */
    static final float QUANT_KERNELS_TOLERANCE = 0.05f;

    @TempDir
    static Path tmp;

    static Path synth(String shape, GgmlType type) throws IOException {
        Path p = tmp.resolve(shape + "-" + type + ".gguf");
        if (!p.toFile().exists()) SyntheticGguf.write(Shapes.named(shape), type, p, 7);
        return p;
    }

    static int[] tokens(int n, int vocab, int seed) {
        return EquivalenceTest.tokens(n, vocab, seed);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"tiny-llama, F16", "tiny-llama3, Q8_0", "tiny-mistral, Q4_0", "tiny-mixtral, Q4_K",
            "tiny-llama, Q6_K"})
    void fastKernelsMatchReferenceOverTheWholeModel(String shape, GgmlType type) throws IOException {
        Path p = synth(shape, type);
        try (LanguageModel fast = Models.load(p, LoadOptions.DEFAULT);
             LanguageModel ref = Models.load(p, LoadOptions.DEFAULT.withReferenceKernels(true))) {
            int[] t = tokens(19, fast.config().vocabSize(), 3);
            float[] a = fast.forward(fast.newCache(), t), b = ref.forward(ref.newCache(), t);
            float d = Golden.maxAbsDiff(a, b);
            boolean quant = type != GgmlType.F16 && type != GgmlType.BF16 && type != GgmlType.F32;
            float tol = quant ? QUANT_KERNELS_TOLERANCE : FLOAT_KERNELS_TOLERANCE;
            System.out.printf("synthetic %s %s: fast vs reference kernels max |logit diff| %.3g%n", shape, type, d);
            assertTrue(d <= tol, shape + " " + type + ": fast vs reference logits differ by " + d);
            float spread = 0;
            for (float v : b) spread = Math.max(spread, Math.abs(v - b[0]));
            assertTrue(spread > 10 * d, "logits vary more than the tolerance (spread " + spread + ")");
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"tiny-mistral, Q4_K", "tiny-mixtral, Q6_K"})
    void packedAndChunkedEqualAlone(String shape, GgmlType type) throws IOException {
        Path p = synth(shape, type);
        try (LanguageModel m = Models.load(p, LoadOptions.DEFAULT.withPrefillChunk(5))) {
            int vocab = m.config().vocabSize();
            int[][] prompts = {tokens(17, vocab, 1), tokens(3, vocab, 2), tokens(11, vocab, 3)};
            List<SequenceChunk> chunks = new ArrayList<>();
            List<KvCache> caches = new ArrayList<>();
            for (int[] pr : prompts) {
                KvCache c = m.newCache();
                caches.add(c);
                chunks.add(new SequenceChunk(c, pr, true));
            }
            float[][] packed = m.forward(chunks);
            for (int s = 0; s < prompts.length; s++) {
                float[] alone = m.forward(m.newCache(), prompts[s]);
                EquivalenceTest.assertClose(alone, packed[s], EquivalenceTest.QUANTIZED_TOLERANCE,
                        shape + " " + type + " sequence " + s);
                float[] step = m.forward(caches.get(s), 9);
                float[] full = m.forwardAll(m.newCache(), concat(prompts[s], 9))[prompts[s].length];
                EquivalenceTest.assertClose(full, step, EquivalenceTest.QUANTIZED_TOLERANCE, shape + " decode " + s);
            }
        }
    }

    static int[] concat(int[] a, int b) {
        int[] r = java.util.Arrays.copyOf(a, a.length + 1);
        r[a.length] = b;
        return r;
    }
}
