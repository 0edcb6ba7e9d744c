package dev.jllm.engine.llama;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Short float-vector loops of attention (a head's dot products and weighted sums), Vector API with a scalar tail.
 * {@link #dotScalar} / {@link #axpyScalar} are the plain references they are tested against.
 */
public final class VecOps {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    private VecOps() {
    }

    /** {@code sum_i a[aOff + i] * b[bOff + i]} for {@code i < n}. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        float sum = 0f;
        if (n >= L) {
            // two accumulators: halves the chain of dependent FMAs
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            for (; i <= n - 2 * L; i += 2 * L) {
                acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
                acc1 = FloatVector.fromArray(F, a, aOff + i + L).fma(FloatVector.fromArray(F, b, bOff + i + L), acc1);
            }
            for (; i <= n - L; i += L) {
                acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
            }
            sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) sum += a[aOff + i] * b[bOff + i];
        return sum;
    }

    /**
     * Dot products of one vector {@code k[kOff ..+n]} with four vectors {@code q[qOff + j * qStride ..]},
     * {@code j < 4}, scaled: {@code out[outOff + j * outStride] = scale * dot}. Reads {@code k} once; the four
     * independent sums keep the FMA units busy (attention scores of a GQA group).
     */
    public static void dot4(float[] q, int qOff, int qStride, float[] k, int kOff, int n, float scale, float[] out,
                            int outOff, int outStride) {
        int i = 0;
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        if (n >= L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (; i <= n - L; i += L) {
                FloatVector kv = FloatVector.fromArray(F, k, kOff + i);
                a0 = FloatVector.fromArray(F, q, qOff + i).fma(kv, a0);
                a1 = FloatVector.fromArray(F, q, qOff + qStride + i).fma(kv, a1);
                a2 = FloatVector.fromArray(F, q, qOff + 2 * qStride + i).fma(kv, a2);
                a3 = FloatVector.fromArray(F, q, qOff + 3 * qStride + i).fma(kv, a3);
            }
            s0 = a0.reduceLanes(VectorOperators.ADD);
            s1 = a1.reduceLanes(VectorOperators.ADD);
            s2 = a2.reduceLanes(VectorOperators.ADD);
            s3 = a3.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            float kv = k[kOff + i];
            s0 += q[qOff + i] * kv;
            s1 += q[qOff + qStride + i] * kv;
            s2 += q[qOff + 2 * qStride + i] * kv;
            s3 += q[qOff + 3 * qStride + i] * kv;
        }
        out[outOff] = s0 * scale;
        out[outOff + outStride] = s1 * scale;
        out[outOff + 2 * outStride] = s2 * scale;
        out[outOff + 3 * outStride] = s3 * scale;
    }

    /**
     * {@code out[outOff + j * outStride] = scale * dot(q[qOff + j * qStride ..], k[kOff ..])} for {@code j < nq}:
     * {@link #dot4} for groups of four, {@link #dot} for the rest.
     */
    public static void dotMany(float[] q, int qOff, int qStride, int nq, float[] k, int kOff, int n, float scale,
                               float[] out, int outOff, int outStride) {
        int j = 0;
        for (; j + 4 <= nq; j += 4) {
            dot4(q, qOff + j * qStride, qStride, k, kOff, n, scale, out, outOff + j * outStride, outStride);
        }
        for (; j < nq; j++) out[outOff + j * outStride] = dot(q, qOff + j * qStride, k, kOff, n) * scale;
    }

    /** {@code y[yOff + i] += alpha * x[xOff + i]} for {@code i < n}. */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        if (n >= L) {
            FloatVector av = FloatVector.broadcast(F, alpha);
            for (; i <= n - L; i += L) {
                FloatVector.fromArray(F, x, xOff + i).fma(av, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
            }
        }
        for (; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    /**
     * For a ring of rows {@code rows[(p % cap) * stride + col0 ..]}: {@code out[outOff + c] += sum_{p in [from, to)}
     * w[wBase + p] * row_p[c]} for the columns {@code c} of whole blocks of {@code 4 * L} within {@code width}, each
     * block summed in four vector registers over all positions (values of a KV head weighted by attention).
     *
     * @return the first column not done (the caller finishes the tail)
     */
    public static int weightedSumBlocks(float[] rows, int stride, int cap, int col0, int width, int from, int to,
                                        float[] w, int wBase, float[] out, int outOff) {
        int c = 0;
        for (; c + 4 * L <= width; c += 4 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int p = from; p < to; p++) {
                int base = (p % cap) * stride + col0 + c;
                FloatVector wv = FloatVector.broadcast(F, w[wBase + p]);
                a0 = FloatVector.fromArray(F, rows, base).fma(wv, a0);
                a1 = FloatVector.fromArray(F, rows, base + L).fma(wv, a1);
                a2 = FloatVector.fromArray(F, rows, base + 2 * L).fma(wv, a2);
                a3 = FloatVector.fromArray(F, rows, base + 3 * L).fma(wv, a3);
            }
            int o = outOff + c;
            FloatVector.fromArray(F, out, o).add(a0).intoArray(out, o);
            FloatVector.fromArray(F, out, o + L).add(a1).intoArray(out, o + L);
            FloatVector.fromArray(F, out, o + 2 * L).add(a2).intoArray(out, o + 2 * L);
            FloatVector.fromArray(F, out, o + 3 * L).add(a3).intoArray(out, o + 3 * L);
        }
        return c;
    }

    public static float dotScalar(float[] a, int aOff, float[] b, int bOff, int n) {
        float sum = 0f;
        for (int i = 0; i < n; i++) sum += a[aOff + i] * b[bOff + i];
        return sum;
    }

    public static void axpyScalar(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }
}
