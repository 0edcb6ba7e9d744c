package dev.jllm.engine.llama;

import dev.jllm.engine.tensor.MatOps;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Elementwise pieces of the forward pass (scalar, split across the threads for prefill-sized inputs; these are
 * not where the time goes).
 */
public final class Ops {
    /** Elements below which an elementwise op stays on the calling thread. */
    private static final int PARALLEL_ELEMENTS = 1 << 15;

    private Ops() {
    }

    /**
     * RMSNorm of {@code n} rows: {@code out[i] = x[i] / sqrt(mean(x^2) + eps) * weight} (sum of squares in double,
     * as ggml does).
     */
    public static void rmsnorm(float[] out, float[] x, float[] weight, int n, int dim, float eps) {
        if ((long) n * dim >= PARALLEL_ELEMENTS) {
            MatOps.parallelFor(n, 1, (a, b) -> rmsnorm(out, x, weight, a, b, dim, eps));
        } else {
            rmsnorm(out, x, weight, 0, n, dim, eps);
        }
    }

    private static void rmsnorm(float[] out, float[] x, float[] weight, int from, int to, int dim, float eps) {
        for (int t = from; t < to; t++) {
            int o = t * dim;
            double ss = 0;
            for (int i = 0; i < dim; i++) ss += (double) x[o + i] * x[o + i];
            float scale = (float) (1.0 / Math.sqrt(ss / dim + eps));
            for (int i = 0; i < dim; i++) out[o + i] = x[o + i] * scale * weight[i];
        }
    }

    /** Weightless L2 norm of {@code n} vectors of {@code size} at {@code off}: {@code v / sqrt(mean(v^2) + eps)}. */
    public static void l2norm(float[] v, int off, int n, int size, float eps) {
        for (int t = 0; t < n; t++) {
            int o = off + t * size;
            double ss = 0;
            for (int i = 0; i < size; i++) ss += (double) v[o + i] * v[o + i];
            float scale = (float) (1.0 / Math.sqrt(ss / size + eps));
            for (int i = 0; i < size; i++) v[o + i] *= scale;
        }
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    /** In-place softmax of {@code x[off .. off + n)} (Vector API exp for long rows: attention over a long context). */
    public static void softmax(float[] x, int off, int n) {
        if (n < 4 * F.length()) {
            softmaxScalar(x, off, n);
            return;
        }
        int L = F.length(), i = 0;
        var vmax = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (; i <= n - L; i += L) vmax = vmax.max(FloatVector.fromArray(F, x, off + i));
        float max = vmax.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) max = Math.max(max, x[off + i]);
        var vsum = FloatVector.zero(F);
        i = 0;
        for (; i <= n - L; i += L) {
            var e = FloatVector.fromArray(F, x, off + i).sub(max)
                    .lanewise(VectorOperators.EXP);
            e.intoArray(x, off + i);
            vsum = vsum.add(e);
        }
        float sum = vsum.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        i = 0;
        for (; i <= n - L; i += L) FloatVector.fromArray(F, x, off + i).mul(inv).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= inv;
    }

    /** The scalar reference of {@link #softmax}. */
    public static void softmaxScalar(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = 0; i < n; i++) x[off + i] *= inv;
    }

    /** {@code silu(a) = a * sigmoid(a)}. */
    public static float silu(float a) {
        return (float) (a / (1.0 + Math.exp(-a)));
    }

    /**
     * {@code a[i] = silu(a[i]) * b[i]} for {@code i < n} (SwiGLU's gate), with the Vector API's exp (within an ulp or
     * two of {@link #swigluScalar}; a 1B decode step's 16 x 8192 scalar exps in double were ~1% of it).
     */
    public static void swiglu(float[] a, float[] b, int n) {
        if (n >= PARALLEL_ELEMENTS) {
            MatOps.parallelFor(n, 4096, (from, to) -> swiglu(a, b, from, to));
        } else {
            swiglu(a, b, 0, n);
        }
    }

    private static void swiglu(float[] a, float[] b, int from, int to) {
        int L = F.length(), i = from;
        for (; i <= to - L; i += L) {
            var x = FloatVector.fromArray(F, a, i);
            var e = x.neg().lanewise(VectorOperators.EXP).add(1f);
            x.div(e).mul(FloatVector.fromArray(F, b, i)).intoArray(a, i);
        }
        for (; i < to; i++) a[i] = silu(a[i]) * b[i];
    }

    /** The scalar reference of {@link #swiglu}. */
    public static void swigluScalar(float[] a, float[] b, int n) {
        for (int i = 0; i < n; i++) a[i] = silu(a[i]) * b[i];
    }

    /** {@code x[i] += y[i]} for {@code i < n}. */
    public static void add(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) x[i] += y[i];
    }
}
