package dev.jllm.engine.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SamplerTest {
    static final float LOGPROB_TOLERANCE = 1e-5f;
    /** Allowed gap between an observed frequency and its probability over {@link #DRAWS} draws (> 5 sigma). */
    static final double FREQUENCY_TOLERANCE = 0.02;
    static final int DRAWS = 20_000;

    static float[] logitsOf(double... probs) {
        float[] x = new float[probs.length];
        for (int i = 0; i < probs.length; i++) x[i] = (float) Math.log(probs[i]);
        return x;
    }

    static double[] frequencies(SamplingParams p, float[] logits) {
        Sampler s = new Sampler(p);
        double[] f = new double[logits.length];
        for (int i = 0; i < DRAWS; i++) f[s.sample(logits).token()] += 1.0 / DRAWS;
        return f;
    }

    @Test
    void greedyIsArgmax() {
        float[] x = {0.1f, 2.5f, -1f, 2.4f};
        assertEquals(1, new Sampler(SamplingParams.greedy()).sample(x).token());
    }

    @Test
    void samplingDoesNotModifyTheCallersLogits() {
        float[] x = {0.1f, 2.5f, -1f, 2.4f};
        float[] copy = x.clone();
        var p = SamplingParams.builder().temperature(0.7f).topK(3).topP(0.9f).minP(0.05f)
                .repetitionPenalty(1.3f).frequencyPenalty(0.5f).build();
        new Sampler(p).sample(x, new int[] {1, 1, 3}, 3);
        assertArrayEquals(copy, x);
    }

    @Test
    void temperatureOneDrawsFromTheSoftmax() {
        double[] probs = {0.5, 0.3, 0.15, 0.05};
        double[] f = frequencies(SamplingParams.builder().seed(1).build(), logitsOf(probs));
        for (int i = 0; i < probs.length; i++) assertEquals(probs[i], f[i], FREQUENCY_TOLERANCE, "token " + i);
    }

    @Test
    void temperatureSharpensTheDistribution() {
        double[] probs = {0.5, 0.3, 0.15, 0.05};
        double t = 0.5;
        double[] expected = new double[4];
        double z = 0;
        for (int i = 0; i < 4; i++) z += expected[i] = Math.pow(probs[i], 1 / t);
        double[] f = frequencies(SamplingParams.builder().temperature((float) t).seed(2).build(), logitsOf(probs));
        for (int i = 0; i < 4; i++) assertEquals(expected[i] / z, f[i], FREQUENCY_TOLERANCE, "token " + i);
    }

    @Test
    void topKKeepsOnlyTheKBestRenormalised() {
        double[] probs = {0.1, 0.4, 0.2, 0.3};
        double[] f = frequencies(SamplingParams.builder().topK(2).seed(3).build(), logitsOf(probs));
        assertEquals(0.0, f[0]);
        assertEquals(0.0, f[2]);
        assertEquals(0.4 / 0.7, f[1], FREQUENCY_TOLERANCE);
        assertEquals(0.3 / 0.7, f[3], FREQUENCY_TOLERANCE);
    }

    @Test
    void topKOneIsGreedy() {
        float[] x = logitsOf(0.1, 0.4, 0.2, 0.3);
        Sampler s = new Sampler(SamplingParams.builder().topK(1).seed(4).build());
        for (int i = 0; i < 100; i++) assertEquals(1, s.sample(x).token());
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingP() {
        // sorted: 0.4 (id 1), 0.3 (id 3), 0.2 (id 2), 0.1 (id 0); p = 0.65 needs 0.4 + 0.3
        double[] probs = {0.1, 0.4, 0.2, 0.3};
        double[] f = frequencies(SamplingParams.builder().topP(0.65f).seed(5).build(), logitsOf(probs));
        assertEquals(0.0, f[0]);
        assertEquals(0.0, f[2]);
        assertEquals(0.4 / 0.7, f[1], FREQUENCY_TOLERANCE);
    }

    @Test
    void topPOnALargeVocabularyKeepsExactlyTheNucleus() {
        // 5003 tokens: 300 "good" ones share 90% of the mass, the rest 10%; top-p 0.85 keeps about 283 good ones
        int n = 5003, good = 300;
        float[] x = new float[n];
        Random r = new Random(9);
        double[] w = new double[n];
        for (int i = 0; i < n; i++) w[i] = i % 17 == 0 && i / 17 < good ? 0.9 / good : 0.1 / (n - good);
        for (int i = 0; i < n; i++) x[i] = (float) (Math.log(w[i]) + 1e-4 * r.nextGaussian());
        Sampler s = new Sampler(SamplingParams.builder().topP(0.85f).seed(6).build());
        boolean[] seen = new boolean[n];
        int distinct = 0;
        for (int i = 0; i < 6_000; i++) {
            int t = s.sample(x).token();
            assertTrue(t % 17 == 0 && t / 17 < good, "token " + t + " is outside the nucleus");
            if (!seen[t]) {
                seen[t] = true;
                distinct++;
            }
        }
        assertTrue(distinct > 250, "only " + distinct + " distinct tokens drawn");
    }

    @Test
    void topPNucleusEqualsTheSortedPrefixOnRandomLogits() {
        // the radix select must pick exactly the smallest sorted prefix reaching p (checked with top-p then greedy
        // membership: every drawn token lies in the prefix computed here by a full sort)
        Random r = new Random(11);
        for (int n : new int[] {3, 97, 2053}) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * 1.5);
            x[n - 1] = x[0]; // a tie
            int[] sorted = LogitsTest.referenceTopK(x, n);
            float p = 0.7f;
            double z = 0;
            for (float v : x) z += Math.exp(v);
            java.util.Set<Integer> prefix = new java.util.HashSet<>();
            double cum = 0;
            for (int id : sorted) {
                prefix.add(id);
                cum += Math.exp(x[id]);
                if (cum >= p * z) break;
            }
            Sampler s = new Sampler(SamplingParams.builder().topP(p).seed(n).build());
            java.util.Set<Integer> drawn = new java.util.HashSet<>();
            for (int i = 0; i < 5000; i++) drawn.add(s.sample(x).token());
            assertTrue(prefix.containsAll(drawn), "n=" + n + ": drew outside the nucleus");
            if (prefix.size() <= 40) assertEquals(prefix, drawn, "n=" + n + ": nucleus not fully reachable");
        }
    }

    @Test
    void orderKeyIsMonotone() {
        float[] v = {Float.NEGATIVE_INFINITY, -1e30f, -2f, -1f, -0f, 0f, 1e-30f, 1f, 2.5f, 1e30f, Float.POSITIVE_INFINITY};
        for (int i = 1; i < v.length; i++) {
            assertTrue(Integer.compareUnsigned(Sampler.orderKey(v[i - 1]), Sampler.orderKey(v[i])) <= 0, "at " + v[i]);
        }
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheTopProbability() {
        // p_max = 0.5; min_p 0.25 -> threshold 0.125: drops 0.1 and 0.05
        double[] probs = {0.5, 0.1, 0.35, 0.05};
        double[] f = frequencies(SamplingParams.builder().minP(0.25f).seed(7).build(), logitsOf(probs));
        assertEquals(0.0, f[1]);
        assertEquals(0.0, f[3]);
        assertEquals(0.5 / 0.85, f[0], FREQUENCY_TOLERANCE);
    }

    @Test
    void sameSeedSameTokensDifferentSeedDifferentTokens() {
        float[] x = new float[1000];
        Random r = new Random(1);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        var p = SamplingParams.builder().temperature(0.9f).topK(50).topP(0.95f).seed(42).build();
        int[] a = new int[64], b = new int[64], c = new int[64];
        Sampler sa = new Sampler(p), sb = new Sampler(p), sc = new Sampler(p.toBuilder().seed(43).build());
        for (int i = 0; i < 64; i++) {
            a[i] = sa.sample(x).token();
            b[i] = sb.sample(x).token();
            c[i] = sc.sample(x).token();
        }
        assertArrayEquals(a, b);
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(c));
    }

    @Test
    void penaltiesFollowCtrlAndOpenAiFormulas() {
        float[] x = {2f, -1f, 0.5f, 3f, 1f};
        int[] history = {3, 0, 3, 1, 3, 4};
        var p = SamplingParams.builder().temperature(0).repetitionPenalty(2f).presencePenalty(0.25f)
                .frequencyPenalty(0.5f).penaltyLastN(5) // window: 0,3,1,3,4 (first 3 falls out)
                .topLogprobs(5).logprobsMode(SamplingParams.LogprobsMode.PROCESSED).build();
        // by hand: id0 count1: 2/2 - 0.5 - 0.25 = 0.25; id1 count1: -1*2 - 0.75 = -2.75; id2 untouched 0.5;
        //          id3 count2: 3/2 - 1.0 - 0.25 = 0.25; id4 count1: 1/2 - 0.75 = -0.25
        float[] expected = {0.25f, -2.75f, 0.5f, 0.25f, -0.25f};
        Sample s = new Sampler(p).sample(x, history, history.length);
        assertEquals(2, s.token(), "greedy after penalties");
        double lse = Math.log(Math.exp(0.25) + Math.exp(-2.75) + Math.exp(0.5) + Math.exp(0.25) + Math.exp(-0.25));
        assertArrayEquals(new int[] {2, 0, 3, 4, 1}, s.topIds());
        for (int j = 0; j < 5; j++) {
            assertEquals(expected[s.topIds()[j]] - lse, s.topLogprobs()[j], LOGPROB_TOLERANCE, "rank " + j);
        }
    }

    @Test
    void penaltyWindowZeroTurnsPenaltiesOff() {
        float[] x = {2f, 1f};
        var p = SamplingParams.builder().temperature(0).repetitionPenalty(10f).penaltyLastN(0).build();
        assertEquals(0, new Sampler(p).sample(x, new int[] {0, 0}, 2).token());
        var on = p.toBuilder().penaltyLastN(-1).build();
        assertEquals(1, new Sampler(on).sample(x, new int[] {0, 0}, 2).token());
    }

    @Test
    void rawLogprobsIgnoreTemperatureAndPenalties() {
        float[] x = {1f, 2f, 0f, -1f, 0.5f};
        var p = SamplingParams.builder().temperature(0.3f).repetitionPenalty(3f).topLogprobs(3).seed(3).build();
        Sample s = new Sampler(p).sample(x, new int[] {1}, 1);
        double lse = 0;
        for (float v : x) lse += Math.exp(v);
        lse = Math.log(lse);
        assertArrayEquals(new int[] {1, 0, 4}, s.topIds());
        assertEquals(2 - lse, s.topLogprobs()[0], LOGPROB_TOLERANCE);
        assertEquals(1 - lse, s.topLogprobs()[1], LOGPROB_TOLERANCE);
        assertEquals(0.5 - lse, s.topLogprobs()[2], LOGPROB_TOLERANCE);
        assertEquals(x[s.token()] - lse, s.logprob(), LOGPROB_TOLERANCE);
    }

    @Test
    void badParametersAndHistoryAreRejectedWithTheirName() {
        var e = assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().topP(0f).build());
        assertTrue(e.getMessage().contains("top_p"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().temperature(-1f).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().minP(2f).build());
        var p = SamplingParams.builder().repetitionPenalty(1.1f).build();
        var h = assertThrows(IllegalArgumentException.class,
                () -> new Sampler(p).sample(new float[4], new int[] {9}, 1));
        assertTrue(h.getMessage().contains("history token 9"), h.getMessage());
    }
}
