package dev.jllm.engine.llama4;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jllm.engine.LoadOptions;
import dev.jllm.engine.SequenceChunk;
import dev.jllm.engine.kv.KvCache;
import dev.jllm.engine.llama.Transformer;
import dev.jllm.engine.model.hf.HfModelLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Llama 4 text (chunk 16, NoPE layer, MoE + shared expert) on the shared random model: prefill in odd-sized rounds
 * equals one pass, and packed sequences equal each run alone, across chunk boundaries and the rolling buffers.
 */
class Llama4EquivalenceTest {
    /** Same arithmetic in another grouping (cached vs in-pass keys): float rounding only. */
    static final float TOLERANCE = 1e-5f;
    static final Path MODEL = Path.of(System.getProperty("jllm.shared.dir", "../shared"))
            .resolve("golden/random/llama4-text/hf");

    static int[] tokens(int n, int seed) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = (int) ((i * 7919L + seed * 104729L) % 2048);
        return t;
    }

    @Test
    void chunkedPrefillEqualsOnePassAndPackedEqualsAlone() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(MODEL), "shared model not found at " + MODEL);
        int[] a = tokens(37, 1), b = tokens(21, 2);
        try (Transformer whole = HfModelLoader.load(MODEL, LoadOptions.DEFAULT);
             Transformer rounds = HfModelLoader.load(MODEL, LoadOptions.DEFAULT.withPrefillChunk(5))) {
            float[][] expected = whole.forwardAll(whole.newCache(), a);
            float[][] got = rounds.forwardAll(rounds.newCache(), a);
            for (int i = 0; i < a.length; i++) assertClose(expected[i], got[i], "prefill rounds of 5, position " + i);

            // two sequences packed in one pass, then one decode step each, packed again
            KvCache ca = whole.newCache(), cb = whole.newCache();
            float[][] packed = whole.forward(List.of(new SequenceChunk(ca, a, true), new SequenceChunk(cb, b, true)));
            assertClose(expected[a.length - 1], packed[0], "packed sequence a");
            float[][] bAlone = whole.forwardAll(whole.newCache(), b);
            assertClose(bAlone[b.length - 1], packed[1], "packed sequence b");
            float[][] step = whole.forward(List.of(new SequenceChunk(ca, new int[] {5}, true),
                    new SequenceChunk(cb, new int[] {9}, true)));
            int[] a1 = java.util.Arrays.copyOf(a, a.length + 1);
            a1[a.length] = 5;
            int[] b1 = java.util.Arrays.copyOf(b, b.length + 1);
            b1[b.length] = 9;
            assertClose(whole.forwardAll(whole.newCache(), a1)[a.length], step[0], "decode after packed a");
            assertClose(whole.forwardAll(whole.newCache(), b1)[b.length], step[1], "decode after packed b");
        }
    }

    static void assertClose(float[] expected, float[] actual, String where) {
        assertEquals(expected.length, actual.length, where);
        float worst = 0;
        for (int i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        assertEquals(0f, worst, TOLERANCE, where + ": max |logit diff|");
    }
}
