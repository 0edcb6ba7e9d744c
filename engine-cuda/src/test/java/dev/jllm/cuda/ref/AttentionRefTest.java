package dev.jllm.cuda.ref;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The attention reference on a rolling cache against a naive computation over the full history held by
 * absolute position (causal, sliding window, GQA), and by hand.
 */
class AttentionRefTest {
    static final float TOL = 1e-5f;

    /** softmax(q.k_p * scale) . v_p over p in (pos - span, pos], from per-position arrays. */
    private static float[] naive(float[] q, int qOff, float[][] kHist, float[][] vHist, int pos, int span, float scale, int hd) {
        int first = Math.max(0, pos - span + 1);
        double[] w = new double[pos - first + 1];
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int p = first; p <= pos; p++) {
            double s = 0;
            for (int d = 0; d < hd; d++) s += q[qOff + d] * kHist[p][d] * (double) scale;
            w[p - first] = s;
            max = Math.max(max, s);
        }
        for (int i = 0; i < w.length; i++) sum += w[i] = Math.exp(w[i] - max);
        float[] out = new float[hd];
        for (int d = 0; d < hd; d++) {
            double acc = 0;
            for (int p = first; p <= pos; p++) acc += w[p - first] * vHist[p][d];
            out[d] = (float) (acc / sum);
        }
        return out;
    }

    @Test
    void oneKeyGivesItsValue() {
        float[] kc = {1, 2}, vc = {5, -3};
        float[] out = AttentionRef.decode(new float[]{0.3f, 0.7f}, kc, vc, new int[]{0}, 1, 1, 2, 1, 1, 1f);
        assertArrayEquals(new float[]{5, -3}, out, 0f);
    }

    @Test
    void twoEqualScoresAverage() {
        float[] kc = {1, 0, 1, 0}, vc = {2, 0, 4, 8};
        float[] out = AttentionRef.decode(new float[]{1, 0}, kc, vc, new int[]{1}, 1, 1, 2, 2, 2, 1f);
        assertArrayEquals(new float[]{3, 4}, out, TOL);
    }

    @Test
    void rollingDecodeWithSlidingWindowAndGqaMatchesTheFullHistory() {
        SplittableRandom rnd = new SplittableRandom(21);
        int nHeads = 4, nKv = 2, hd = 12, window = 8, span = 5, steps = 21;
        float scale = (float) (1 / Math.sqrt(hd));
        float[][][] kHist = new float[nKv][steps][], vHist = new float[nKv][steps][];
        float[] kc = new float[nKv * window * hd], vc = new float[nKv * window * hd];
        for (int pos = 0; pos < steps; pos++) {
            for (int g = 0; g < nKv; g++) {
                kHist[g][pos] = TestData.floats(rnd, hd, 1);
                vHist[g][pos] = TestData.floats(rnd, hd, 1);
                System.arraycopy(kHist[g][pos], 0, kc, ((pos % window) * nKv + g) * hd, hd);
                System.arraycopy(vHist[g][pos], 0, vc, ((pos % window) * nKv + g) * hd, hd);
            }
            float[] q = TestData.floats(rnd, nHeads * hd, 2);
            float[] out = AttentionRef.decode(q, kc, vc, new int[]{pos}, nHeads, nKv, hd, window, span, scale);
            for (int h = 0; h < nHeads; h++) {
                int g = h / (nHeads / nKv);
                float[] expect = naive(q, h * hd, kHist[g], vHist[g], pos, span, scale, hd);
                for (int d = 0; d < hd; d++) assertEquals(expect[d], out[h * hd + d], TOL, "pos " + pos + " head " + h);
            }
        }
    }

    @Test
    void packedPrefillIsBlockDiagonal() {
        SplittableRandom rnd = new SplittableRandom(22);
        int nHeads = 2, nKv = 1, hd = 4, window = 16, seqs = 2;
        // tokens: seq 0 at positions 0..4, then seq 1 at positions 0..2, packed in one batch
        int[] seq = {0, 0, 0, 0, 0, 1, 1, 1};
        int[] pos = {0, 1, 2, 3, 4, 0, 1, 2};
        float[] kc = TestData.floats(rnd, seqs * nKv * window * hd, 1), vc = TestData.floats(rnd, seqs * nKv * window * hd, 1);
        float[] q = TestData.floats(rnd, seq.length * nHeads * hd, 1);
        float[] packed = AttentionRef.prefill(q, kc, vc, pos, seq, nHeads, nKv, hd, window, window, 0.5f);
        // each token alone, decoded against its own sequence's cache
        for (int t = 0; t < seq.length; t++) {
            float[] qt = java.util.Arrays.copyOfRange(q, t * nHeads * hd, (t + 1) * nHeads * hd);
            float[] kcs = java.util.Arrays.copyOfRange(kc, seq[t] * nKv * window * hd, (seq[t] + 1) * nKv * window * hd);
            float[] vcs = java.util.Arrays.copyOfRange(vc, seq[t] * nKv * window * hd, (seq[t] + 1) * nKv * window * hd);
            float[] alone = AttentionRef.decode(qt, kcs, vcs, new int[]{pos[t]}, nHeads, nKv, hd, window, window, 0.5f);
            assertArrayEquals(alone, java.util.Arrays.copyOfRange(packed, t * nHeads * hd, (t + 1) * nHeads * hd), TOL, "token " + t);
        }
    }
}
