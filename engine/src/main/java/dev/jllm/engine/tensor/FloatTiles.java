package dev.jllm.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static dev.jllm.engine.tensor.FloatVectors.F;
import static dev.jllm.engine.tensor.FloatVectors.L;

/**
 * Micro-kernels of the batched product ({@link SegmentMatrix#matmul} with several inputs): weight rows already decoded
 * to F32 in {@code w} (rows {@code cols} apart) times F32 inputs in {@code x} (inputs {@code cols} apart). In
 * {@link #dot4x4} each weight vector is loaded once for four inputs and each input vector once for four rows: sixteen
 * independent multiply-add chains, so a batch runs at the machine's multiply-add rate instead of its memory rate.
 * Outputs go to {@code out[o + k * outStride + j]} for row {@code j} and input {@code k} ([inputs][rows] layout).
 */
final class FloatTiles {
    private FloatTiles() {
    }

    /**
     * Rows {@code w0 + j * cols} of {@code w} . inputs {@code x0 + k * cols} of {@code x}, j, k < 4: sixteen chains, each
     * loaded vector used four times.
     */
    static void dot4x4(float[] w, int w0, float[] x, int x0, int cols, float[] out, int o, int outStride) {
        int w1 = w0 + cols, w2 = w1 + cols, w3 = w2 + cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0; // row 0 . inputs 0..3
        FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0;                 // row 1
        FloatVector c0 = a0, c1 = a0, c2 = a0, c3 = a0;                 // row 2
        FloatVector d0 = a0, d1 = a0, d2 = a0, d3 = a0;                 // row 3
        int bound = F.loopBound(cols), c = 0;
        for (; c < bound; c += L) {
            FloatVector y0 = FloatVector.fromArray(F, x, x0 + c), y1 = FloatVector.fromArray(F, x, x1 + c);
            FloatVector y2 = FloatVector.fromArray(F, x, x2 + c), y3 = FloatVector.fromArray(F, x, x3 + c);
            FloatVector u = FloatVector.fromArray(F, w, w0 + c);
            a0 = u.fma(y0, a0);
            a1 = u.fma(y1, a1);
            a2 = u.fma(y2, a2);
            a3 = u.fma(y3, a3);
            u = FloatVector.fromArray(F, w, w1 + c);
            b0 = u.fma(y0, b0);
            b1 = u.fma(y1, b1);
            b2 = u.fma(y2, b2);
            b3 = u.fma(y3, b3);
            u = FloatVector.fromArray(F, w, w2 + c);
            c0 = u.fma(y0, c0);
            c1 = u.fma(y1, c1);
            c2 = u.fma(y2, c2);
            c3 = u.fma(y3, c3);
            u = FloatVector.fromArray(F, w, w3 + c);
            d0 = u.fma(y0, d0);
            d1 = u.fma(y1, d1);
            d2 = u.fma(y2, d2);
            d3 = u.fma(y3, d3);
        }
        finish4(w, w0, x, x0, cols, c, a0, a1, a2, a3, out, o, outStride);
        finish4(w, w1, x, x0, cols, c, b0, b1, b2, b3, out, o + 1, outStride);
        finish4(w, w2, x, x0, cols, c, c0, c1, c2, c3, out, o + 2, outStride);
        finish4(w, w3, x, x0, cols, c, d0, d1, d2, d3, out, o + 3, outStride);
    }

    /** One row's four sums: lanes reduced, the columns from {@code c} on added in scalar, stored for inputs 0..3. */
    private static void finish4(float[] w, int w0, float[] x, int x0, int cols, int c, FloatVector s0, FloatVector s1,
                                FloatVector s2, FloatVector s3, float[] out, int o, int outStride) {
        float t0 = s0.reduceLanes(VectorOperators.ADD), t1 = s1.reduceLanes(VectorOperators.ADD);
        float t2 = s2.reduceLanes(VectorOperators.ADD), t3 = s3.reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) {
            float u = w[w0 + c];
            t0 += u * x[x0 + c];
            t1 += u * x[x0 + cols + c];
            t2 += u * x[x0 + 2 * cols + c];
            t3 += u * x[x0 + 3 * cols + c];
        }
        out[o] = t0;
        out[o + outStride] = t1;
        out[o + 2 * outStride] = t2;
        out[o + 3 * outStride] = t3;
    }

    /** Rows {@code w0} and {@code w0 + cols} of {@code w} . input {@code x0} of {@code x}: inputs and rows left over after groups of four. */
    static void dot2x1(float[] w, int w0, float[] x, int x0, int cols, float[] out, int o) {
        int w1 = w0 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0; // two chains per row
        int bound = F.loopBound(cols), c = 0;
        for (; c + 2 * L <= bound; c += 2 * L) {
            FloatVector y = FloatVector.fromArray(F, x, x0 + c), z = FloatVector.fromArray(F, x, x0 + c + L);
            a0 = FloatVector.fromArray(F, w, w0 + c).fma(y, a0);
            a1 = FloatVector.fromArray(F, w, w0 + c + L).fma(z, a1);
            b0 = FloatVector.fromArray(F, w, w1 + c).fma(y, b0);
            b1 = FloatVector.fromArray(F, w, w1 + c + L).fma(z, b1);
        }
        for (; c < bound; c += L) {
            FloatVector y = FloatVector.fromArray(F, x, x0 + c);
            a0 = FloatVector.fromArray(F, w, w0 + c).fma(y, a0);
            b0 = FloatVector.fromArray(F, w, w1 + c).fma(y, b0);
        }
        float sa = a0.add(a1).reduceLanes(VectorOperators.ADD), sb = b0.add(b1).reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) {
            sa += w[w0 + c] * x[x0 + c];
            sb += w[w1 + c] * x[x0 + c];
        }
        out[o] = sa;
        out[o + 1] = sb;
    }

    /** Row {@code w0} of {@code w} . input {@code x0} of {@code x}: the last row of a tile of odd length. */
    static float dot(float[] w, int w0, float[] x, int x0, int cols) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int bound = F.loopBound(cols), c = 0;
        for (; c + 2 * L <= bound; c += 2 * L) {
            a0 = FloatVector.fromArray(F, w, w0 + c).fma(FloatVector.fromArray(F, x, x0 + c), a0);
            a1 = FloatVector.fromArray(F, w, w0 + c + L).fma(FloatVector.fromArray(F, x, x0 + c + L), a1);
        }
        for (; c < bound; c += L) a0 = FloatVector.fromArray(F, w, w0 + c).fma(FloatVector.fromArray(F, x, x0 + c), a0);
        float s = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) s += w[w0 + c] * x[x0 + c];
        return s;
    }
}
