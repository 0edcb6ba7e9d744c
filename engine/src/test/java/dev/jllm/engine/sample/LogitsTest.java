package dev.jllm.engine.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LogitsTest {
    static final double LOG_SOFTMAX_TOLERANCE = 1e-6;

    /** Reference: full sort of all indices by (value desc, index asc). */
    static int[] referenceTopK(float[] x, int k) {
        Integer[] all = new Integer[x.length];
        for (int i = 0; i < x.length; i++) all[i] = i;
        Arrays.sort(all, Comparator.<Integer>comparingDouble(i -> -x[i]).thenComparingInt(i -> i));
        int m = Math.min(k, x.length);
        int[] out = new int[m];
        for (int i = 0; i < m; i++) out[i] = all[i];
        return out;
    }

    @Test
    void topKMatchesFullSortAtAwkwardSizes() {
        Random r = new Random(7);
        for (int n : new int[] {1, 2, 7, 131, 1009, 4099}) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian() * 3;
            // some exact ties and -inf entries
            if (n > 5) {
                x[n - 1] = x[0];
                x[n / 2] = x[0];
                x[1] = Float.NEGATIVE_INFINITY;
            }
            for (int k : new int[] {1, 2, 3, 40, 97, n - 1, n, n + 5}) {
                if (k <= 0) continue;
                int[] idx = new int[n];
                int m = Logits.topK(x, n, k, idx);
                int[] expected = referenceTopK(x, k);
                assertEquals(expected.length, m, "count n=" + n + " k=" + k);
                assertArrayEquals(expected, Arrays.copyOf(idx, m), "n=" + n + " k=" + k);
            }
        }
    }

    @Test
    void argmaxTakesLowestIdOnTiesAndRejectsNaN() {
        assertEquals(1, Logits.argmax(new float[] {0f, 3f, 1f, 3f}, 4));
        assertEquals(0, Logits.argmax(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, 2));
        var e = assertThrows(IllegalArgumentException.class, () -> Logits.argmax(new float[] {0f, Float.NaN}, 2));
        assertEquals("logit for token 1 is NaN", e.getMessage());
    }

    @Test
    void logSoftmaxMatchesDirectFormulaAndIsStableForLargeLogits() {
        float[] x = {1000f, 999f, 998f, -5f};
        float[] out = new float[4];
        Logits.logSoftmax(x, 4, out);
        // direct formula with the shift done by hand: log(e^0 + e^-1 + e^-2 + e^-1005)
        double lse = 1000 + Math.log(1 + Math.exp(-1) + Math.exp(-2) + Math.exp(-1005));
        for (int i = 0; i < 4; i++) {
            double expected = x[i] - lse; // a float result carries one ulp of its own magnitude
            assertEquals(expected, out[i], LOG_SOFTMAX_TOLERANCE + Math.ulp((float) expected), "i=" + i);
        }
    }
}
