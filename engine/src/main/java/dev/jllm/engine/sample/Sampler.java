package dev.jllm.engine.sample;

import java.util.Arrays;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * Turns one logit vector into one token, following {@link SamplingParams} (see there for the exact semantics and
 * order of the steps). One sampler per sequence: it owns its seeded generator ({@code L64X128MixRandom}, a
 * specified algorithm, so the same seed gives the same tokens on every JVM) and its scratch buffers, so it is
 * not thread-safe. The caller's logit array is never modified.
 */
public final class Sampler {
    /** The generator algorithm; named so that a seed means the same thing on every JDK. */
    public static final String RNG_ALGORITHM = "L64X128MixRandom";

    private final SamplingParams params;
    private final RandomGenerator rng;

    private float[] work = new float[0];   // [vocab] logits after penalties and temperature
    private float[] prob = new float[0];   // [vocab] exp(work - max), unnormalised
    private int[] cand = new int[0];       // [vocab] candidate ids, most likely first once sorted
    private int[] window = new int[0];     // [penalty window] sorted copy of the recent history
    private float[] expByToken = new float[0]; // [vocab] exp(work - max) by id (top-p without top-k)
    private int[] members = new int[0];    // [vocab] radix-select scratch: undecided ids
    private int[] keys = new int[0];       // [vocab] radix-select scratch: their order keys
    private final double[] hist = new double[1 << 11]; // [2048] mass per radix bucket

    public Sampler(SamplingParams params) {
        this.params = params;
        this.rng = RandomGeneratorFactory.of(RNG_ALGORITHM).create(params.seed());
    }

    public SamplingParams params() {
        return params;
    }

    /** Samples from {@code logits} with no token history (penalties have nothing to act on). */
    public Sample sample(float[] logits) {
        return sample(logits, new int[0], 0);
    }

    /**
     * Samples one token.
     *
     * @param logits        [vocab] raw logits from the model; not modified
     * @param history       tokens seen so far (prompt and/or generated, the caller's choice), oldest first
     * @param historyLength how many entries of {@code history} are valid
     */
    public Sample sample(float[] logits, int[] history, int historyLength) {
        int n = logits.length;
        if (n == 0) throw new IllegalArgumentException("empty logit vector");
        ensureCapacity(n);
        float[] x = work;
        System.arraycopy(logits, 0, x, 0, n);
        if (params.hasPenalties()) {
            applyPenalties(x, n, history, historyLength);
        }

        int token;
        if (params.isGreedy()) {
            token = Logits.argmax(x, n);
        } else {
            float invT = 1f / params.temperature();
            for (int i = 0; i < n; i++) x[i] *= invT;
            token = draw(x, n);
        }
        return report(logits, x, n, token);
    }

    // ---- steps -------------------------------------------------------------------------------------------

    /** Repetition (CTRL) then presence/frequency (OpenAI) penalties over the last {@code penaltyLastN} tokens. */
    private void applyPenalties(float[] x, int n, int[] history, int historyLength) {
        int last = params.penaltyLastN() < 0 ? historyLength : Math.min(params.penaltyLastN(), historyLength);
        if (last == 0) return;
        if (window.length < last) window = new int[Math.max(last, 2 * window.length)];
        System.arraycopy(history, historyLength - last, window, 0, last);
        Arrays.sort(window, 0, last);
        float rep = params.repetitionPenalty();
        float presence = params.presencePenalty();
        float frequency = params.frequencyPenalty();
        for (int i = 0; i < last; ) {
            int id = window[i];
            int j = i;
            while (j < last && window[j] == id) j++;
            int count = j - i;
            i = j;
            if (id < 0 || id >= n) {
                throw new IllegalArgumentException("history token " + id + " is outside the vocabulary [0, " + n + ")");
            }
            float v = x[id];
            if (rep != 1f) v = v > 0 ? v / rep : v * rep;
            v -= count * frequency + presence;
            x[id] = v;
        }
    }

    /** top-k, top-p, min-p over the tempered logits {@code x}, then one draw from what is left. */
    private int draw(float[] x, int n) {
        int k = params.topK() > 0 ? Math.min(params.topK(), n) : n;
        float topP = params.topP();
        int m; // number of candidates in cand[0..m)
        if (k < n) {
            m = Logits.topK(x, n, k, cand);                 // sorted, best first
            float max = x[cand[0]];
            double z = 0;
            for (int j = 0; j < m; j++) {
                prob[j] = (float) Math.exp(x[cand[j]] - max);
                z += prob[j];
            }
            if (topP < 1f) m = topPPrefix(prob, m, z, topP);
        } else if (topP < 1f) {
            m = topPFullVocabulary(x, n, topP);             // the nucleus, prob[] aligned with cand[]
        } else {
            float max = x[Logits.argmax(x, n)];
            Logits.expShifted(x, n, max, prob);
            for (int i = 0; i < n; i++) cand[i] = i;
            m = n;
        }
        if (params.minP() > 0f) {
            // prob[] is exp(x - max) with max the best candidate's, so the top one has probability weight 1
            float threshold = params.minP();
            int kept = 0;
            for (int j = 0; j < m; j++) {
                if (prob[j] >= threshold) {
                    cand[kept] = cand[j];
                    prob[kept] = prob[j];
                    kept++;
                }
            }
            m = kept;
        }
        double mass = 0;
        for (int j = 0; j < m; j++) mass += prob[j];
        double u = rng.nextDouble() * mass;
        double cum = 0;
        for (int j = 0; j < m; j++) {
            cum += prob[j];
            if (u < cum) return cand[j];
        }
        return cand[m - 1]; // rounding: u landed on the very top of the mass
    }

    /** Length of the smallest prefix of sorted weights {@code w[0..m)} (total {@code z}) whose share reaches p. */
    private static int topPPrefix(float[] w, int m, double z, float topP) {
        double target = topP * z;
        double cum = 0;
        for (int j = 0; j < m; j++) {
            cum += w[j];
            if (cum >= target) return j + 1;
        }
        return m;
    }

    /**
     * top-p with no top-k, without sorting the vocabulary: a radix select over the order-preserving bit pattern of
     * the logits (11 + 11 + 10 bits). Each level histograms the probability mass of the remaining tokens by their
     * next bits, accepts every bucket above the one where the running mass crosses {@code p}, and refines only
     * that bucket; after 32 bits the rest are exact ties, taken lowest id first. Three linear passes at most.
     * Leaves the nucleus (unordered) in {@code cand[0..m)} with weights {@code exp(x - max)} in {@code prob}.
     */
    private int topPFullVocabulary(float[] x, int n, float topP) {
        float max = x[Logits.argmax(x, n)];
        float[] w = expByToken;                            // [vocab] exp(x - max), indexed by token id
        double z = Logits.expShifted(x, n, max, w);
        double target = topP * z;
        int[] members = this.members;                      // [vocab] ids still undecided, increasing id order
        int[] keys = this.keys;                            // [vocab] order keys of the members, aligned with them
        int count = n;
        for (int i = 0; i < n; i++) {
            members[i] = i;
            keys[i] = orderKey(x[i]);
        }
        int accepted = 0;
        double cum = 0;
        for (int level = 0; level < RADIX_SHIFTS.length && count > 0; level++) {
            int shift = RADIX_SHIFTS[level];
            int mask = (1 << RADIX_BITS[level]) - 1;
            double[] hist = this.hist;
            Arrays.fill(hist, 0, mask + 1, 0);
            for (int j = 0; j < count; j++) hist[(keys[j] >>> shift) & mask] += w[members[j]];
            int cross = -1;
            for (int b = mask; b >= 0; b--) {
                if (cum + hist[b] >= target) {
                    cross = b;
                    break;
                }
                cum += hist[b];
            }
            if (cross < 0) {                               // rounding: p not reached, everyone is in
                for (int j = 0; j < count; j++) cand[accepted++] = members[j];
                count = 0;
                break;
            }
            int kept = 0;
            for (int j = 0; j < count; j++) {              // branch-free three-way partition
                int id = members[j], key = keys[j];
                int b = (key >>> shift) & mask;
                cand[accepted] = id;
                accepted += b > cross ? 1 : 0;
                members[kept] = id;
                keys[kept] = key;
                kept += b == cross ? 1 : 0;
            }
            count = kept;
        }
        for (int j = 0; j < count; j++) {                  // exact ties at the boundary: lowest id first
            int id = members[j];
            cand[accepted++] = id;
            cum += w[id];
            if (cum >= target) break;
        }
        for (int j = 0; j < accepted; j++) prob[j] = w[cand[j]];
        return accepted;
    }

    private static final int[] RADIX_SHIFTS = {21, 10, 0};
    private static final int[] RADIX_BITS = {11, 11, 10};

    /** Maps a float to an int whose UNSIGNED order is the float order. */
    static int orderKey(float v) {
        int bits = Float.floatToRawIntBits(v);
        return bits >= 0 ? bits ^ 0x80000000 : ~bits;
    }

    /** Log-probability of the chosen token and the top-N list under the distribution {@code logprobsMode} names. */
    private Sample report(float[] raw, float[] processed, int n, int token) {
        float[] source = params.logprobsMode() == SamplingParams.LogprobsMode.RAW ? raw : processed;
        double lse = Logits.logSumExp(source, n);
        float logprob = (float) (source[token] - lse);
        int topN = Math.min(params.topLogprobs(), n);
        if (topN == 0) return new Sample(token, logprob, new int[0], new float[0]);
        int[] ids = new int[topN];
        Logits.topK(source, n, topN, ids);
        float[] lps = new float[topN];
        for (int j = 0; j < topN; j++) lps[j] = (float) (source[ids[j]] - lse);
        return new Sample(token, logprob, ids, lps);
    }

    private void ensureCapacity(int n) {
        if (work.length < n) {
            work = new float[n];
            prob = new float[n];
            cand = new int[n];
            expByToken = new float[n];
            members = new int[n];
            keys = new int[n];
        }
    }
}
