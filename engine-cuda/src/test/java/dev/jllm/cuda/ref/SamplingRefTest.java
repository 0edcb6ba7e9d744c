package dev.jllm.cuda.ref;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Argmax, the counter-based generator and top-k/top-p sampling. */
class SamplingRefTest {
    /** Allowed deviation of an empirical frequency from its probability over 14000 draws (~5 sigma). */
    static final double FREQ_TOL = 0.02;

    @Test
    void argmaxTakesTheLowestIndexOfTheMaximum() {
        assertEquals(1, SamplingRef.argmax(new float[]{1, 5, 5, -2}, 0, 4));
        assertEquals(0, SamplingRef.argmax(new float[]{Float.NEGATIVE_INFINITY}, 0, 1));
    }

    @Test
    void splitmix64KnownValue() {
        // splitmix64 with state 0: the first output is 0xE220A8397B1DCDAF
        assertEquals(0xE220A8397B1DCDAFL, SamplingRef.splitmix64(0));
        float u = SamplingRef.uniform(42, 7);
        assertTrue(u >= 0 && u < 1);
    }

    @Test
    void degenerateSettingsAreGreedy() {
        float[] logits = {0.1f, 2f, 1.9f, -1f};
        for (long c = 0; c < 20; c++) {
            assertEquals(1, SamplingRef.sample(logits, 0f, 0, 1f, 5, c), "temperature 0");
            assertEquals(1, SamplingRef.sample(logits, 1f, 1, 1f, 5, c), "top_k 1");
            assertEquals(1, SamplingRef.sample(logits, 1f, 0, 0f, 5, c), "top_p 0 keeps the first");
        }
    }

    @Test
    void frequenciesFollowTheSoftmax() {
        float[] logits = {0f, (float) Math.log(2), (float) Math.log(4)};  // probs 1/7, 2/7, 4/7
        int[] counts = new int[3];
        int n = 14000;
        for (long c = 0; c < n; c++) counts[SamplingRef.sample(logits, 1f, 0, 1f, 1234, c)]++;
        assertEquals(1 / 7.0, counts[0] / (double) n, FREQ_TOL);
        assertEquals(2 / 7.0, counts[1] / (double) n, FREQ_TOL);
        assertEquals(4 / 7.0, counts[2] / (double) n, FREQ_TOL);
    }

    @Test
    void topPCutsTheTail() {
        float[] logits = {0f, (float) Math.log(2), (float) Math.log(4)};
        // top_p 0.5: the first candidate (4/7 >= 0.5) alone
        for (long c = 0; c < 50; c++) assertEquals(2, SamplingRef.sample(logits, 1f, 0, 0.5f, 9, c));
        // top_p 0.8: candidates 2 and 1 (4/7 + 2/7 = 6/7 >= 0.8), never 0
        boolean sawOne = false;
        for (long c = 0; c < 200; c++) {
            int t = SamplingRef.sample(logits, 1f, 0, 0.8f, 9, c);
            assertTrue(t != 0);
            sawOne |= t == 1;
        }
        assertTrue(sawOne);
    }
}
