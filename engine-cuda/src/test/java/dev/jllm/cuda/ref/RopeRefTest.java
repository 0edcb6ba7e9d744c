package dev.jllm.cuda.ref;

import dev.jllm.engine.model.RopeConfig;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** RoPE frequencies against the engine's RopeConfig, rotations by hand, and the rolling cache write. */
class RopeRefTest {
    static final double FREQ_REL_TOL = 1e-6;

    @Test
    void llama3FrequenciesMatchTheEngine() {
        // the tiny llama3-ropescale model: base 5e5, factor 8, low 1, high 4, original context 16
        RopeConfig cfg = new RopeConfig(500000, 16, RopeConfig.Style.HALF_SPLIT, RopeConfig.Scaling.llama3(8, 1, 4, 16));
        double[] theirs = cfg.inverseFrequencies();
        float[] mine = RopeRef.invFreqLlama3(500000, 16, 8, 1, 4, 16);
        boolean changed = false;
        float[] plain = RopeRef.invFreq(500000, 16);
        for (int i = 0; i < mine.length; i++) {
            assertEquals(theirs[i], mine[i], FREQ_REL_TOL * theirs[i], "pair " + i);
            changed |= Math.abs(plain[i] - mine[i]) > 1e-3 * plain[i];
        }
        assertEquals(true, changed, "scaling must change some frequencies at these settings");
        double[] none = new RopeConfig(10000, 8, RopeConfig.Style.ADJACENT, RopeConfig.Scaling.NONE).inverseFrequencies();
        float[] mineNone = RopeRef.invFreq(10000, 8);
        for (int i = 0; i < 4; i++) assertEquals(none[i], mineNone[i], FREQ_REL_TOL * none[i]);
    }

    @Test
    void rotationByHand() {
        float[] x = {1, 0, 0, 1};
        RopeRef.rotate(x, 0, 4, RopeRef.ADJACENT, 1, new float[]{1, 0.5f});
        // pair (0,1) by 1 rad, pair (2,3) by 0.5 rad
        assertArrayEquals(new float[]{(float) Math.cos(1), (float) Math.sin(1), (float) -Math.sin(0.5), (float) Math.cos(0.5)}, x, 1e-6f);
        float[] y = {1, 0, 0, 1};
        RopeRef.rotate(y, 0, 4, RopeRef.HALF_SPLIT, 1, new float[]{1, 0.5f});
        // pairs (0,2) and (1,3)
        assertArrayEquals(new float[]{1 * (float) Math.cos(1), -(float) Math.sin(0.5), (float) Math.sin(1), (float) Math.cos(0.5)}, y, 1e-6f);
    }

    @Test
    void halfSplitIsAdjacentUnderThePermutation() {
        SplittableRandom rnd = new SplittableRandom(9);
        int d = 16;
        float[] x = TestData.floats(rnd, d, 1);
        float[] perm = new float[d];  // adjacent order: (x0, x8, x1, x9, ...)
        for (int i = 0; i < d / 2; i++) {
            perm[2 * i] = x[i];
            perm[2 * i + 1] = x[i + d / 2];
        }
        float[] f = RopeRef.invFreq(10000, d);
        RopeRef.rotate(x, 0, d, RopeRef.HALF_SPLIT, 37, f);
        RopeRef.rotate(perm, 0, d, RopeRef.ADJACENT, 37, f);
        for (int i = 0; i < d / 2; i++) {
            assertEquals(x[i], perm[2 * i], 1e-6);
            assertEquals(x[i + d / 2], perm[2 * i + 1], 1e-6);
        }
    }

    @Test
    void partialRotaryLeavesTheTailAlone() {
        float[] x = {1, 2, 3, 4, 5, 6};
        RopeRef.rotate(x, 0, 4, RopeRef.ADJACENT, 3, RopeRef.invFreq(10000, 4));
        assertEquals(5f, x[4]);
        assertEquals(6f, x[5]);
    }

    @Test
    void cacheWriteIsRollingPerSequence() {
        int nKv = 1, hd = 2, window = 4, tokens = 10;
        float[] q = new float[tokens * hd], k = new float[tokens * hd], v = new float[tokens * hd];
        int[] pos = new int[tokens], seq = new int[tokens];
        for (int t = 0; t < tokens; t++) {
            pos[t] = t;
            seq[t] = t % 2;  // two sequences interleaved
            v[t * hd] = t;
            k[t * hd] = 1;
        }
        float[] kc = new float[2 * nKv * window * hd], vc = new float[2 * nKv * window * hd];
        RopeRef.ropeKv(q, k, v, kc, vc, pos, seq, new float[]{0f}, 1, nKv, hd, 2, RopeRef.ADJACENT, window);
        // seq 1 holds positions 1,3,5,7,9 -> slots 1,3,1,3,1: slot 1 = token 9, slot 3 = token 7
        assertEquals(9f, vc[(1 * window + 1) * hd]);
        assertEquals(7f, vc[(1 * window + 3) * hd]);
        // seq 0: positions 0,2,4,6,8 -> slot 0 = token 8, slot 2 = token 6
        assertEquals(8f, vc[(0 * window + 0) * hd]);
        assertEquals(6f, vc[(0 * window + 2) * hd]);
        assertEquals(1f, kc[(0 * window + 2) * hd], "zero frequency leaves k unrotated");
    }
}
