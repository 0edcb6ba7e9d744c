package dev.jllm.engine.sample;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Pure helpers over a logit vector {@code x[0 .. n)}. None of them allocates more than its result, none of them
 * sorts the whole vocabulary: the k best are found by a bounded heap in {@code O(n log k)}.
 */
public final class Logits {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private Logits() {
    }

    /**
     * {@code sum_i exp(x[i] - shift)} over {@code [0, n)}, also storing each {@code exp(x[i] - shift)} into
     * {@code out} when it is not null ({@code out} may be {@code x}). Vector API {@code EXP} lanes, summed lane-wise in float, the
     * lanes then added in double.
     */
    public static double expShifted(float[] x, int n, float shift, float[] out) {
        // lane-wise partial sums, then the lanes in a fixed order: reduceLanes(ADD) has no fixed order, and a
        // sampler should give the same draw whether its code is interpreted or compiled
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector e = FloatVector.fromArray(F, x, i).sub(shift).lanewise(VectorOperators.EXP);
            if (out != null) e.intoArray(out, i);
            acc = acc.add(e);
        }
        double sum = 0;
        for (float lane : acc.toArray()) sum += lane;
        for (; i < n; i++) {
            float e = (float) Math.exp(x[i] - shift);
            if (out != null) out[i] = e;
            sum += e;
        }
        return sum;
    }

    /** Index of the largest value, lowest index on ties (as {@code torch.argmax}); NaN is an error. */
    public static int argmax(float[] x, int n) {
        int best = 0;
        float bestValue = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float v = x[i];
            if (v > bestValue) {
                bestValue = v;
                best = i;
            } else if (v != v) {
                throw new IllegalArgumentException("logit for token " + i + " is NaN");
            }
        }
        if (bestValue == Float.NEGATIVE_INFINITY) {
            // every entry -inf (or n == 0): still a defined answer for n > 0
            if (n == 0) throw new IllegalArgumentException("empty logit vector");
        }
        return best;
    }

    /** {@code log(sum_i exp(x[i]))}, shifted by the maximum for stability (NaN is an error). */
    public static double logSumExp(float[] x, int n) {
        float max = x[argmax(x, n)];
        if (max == Float.NEGATIVE_INFINITY) return Double.NEGATIVE_INFINITY;
        return max + Math.log(expShifted(x, n, max, null));
    }

    /** {@code out[i] = x[i] - logSumExp(x)} (log-softmax); {@code out} may be {@code x}. */
    public static void logSoftmax(float[] x, int n, float[] out) {
        double lse = logSumExp(x, n);
        for (int i = 0; i < n; i++) {
            out[i] = (float) (x[i] - lse);
        }
    }

    /**
     * Writes the indices of the {@code k} largest values of {@code x[0..n)} into {@code idx[0..k)}, largest first,
     * lower index first among equal values. A bounded min-heap: {@code O(n log k)} time, no full sort.
     *
     * @return {@code min(k, n)}, the number of indices written
     */
    public static int topK(float[] x, int n, int k, int[] idx) {
        k = Math.min(k, n);
        if (k <= 0) return 0;
        // idx[0..size) is a heap whose root is the WORST kept entry (smallest value, then highest index)
        int size = 0;
        for (int i = 0; i < n; i++) {
            float v = x[i];
            if (v != v) throw new IllegalArgumentException("logit for token " + i + " is NaN");
            if (size < k) {
                idx[size] = i;
                siftUp(x, idx, size);
                size++;
            } else if (better(x, i, idx[0])) {
                idx[0] = i;
                siftDown(x, idx, 0, size);
            }
        }
        // heap sort in place: repeatedly move the worst to the end -> best first
        for (int end = size - 1; end > 0; end--) {
            int t = idx[0];
            idx[0] = idx[end];
            idx[end] = t;
            siftDown(x, idx, 0, end);
        }
        return size;
    }

    /** Does token {@code a} rank before token {@code b}? Higher value first, lower id on ties. */
    static boolean better(float[] x, int a, int b) {
        float va = x[a], vb = x[b];
        return va > vb || (va == vb && a < b);
    }

    private static void siftUp(float[] x, int[] h, int i) {
        int e = h[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!better(x, h[parent], e)) break; // parent already worse or equal: heap holds
            h[i] = h[parent];
            i = parent;
        }
        h[i] = e;
    }

    private static void siftDown(float[] x, int[] h, int i, int size) {
        int e = h[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) break;
            if (child + 1 < size && better(x, h[child], h[child + 1])) child++; // pick the worse child
            if (!better(x, e, h[child])) break;
            h[i] = h[child];
            i = child;
        }
        h[i] = e;
    }
}
