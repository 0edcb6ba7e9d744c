package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.jllm.engine.tensor.FloatVectors.F;
import static dev.jllm.engine.tensor.FloatVectors.L;
import static dev.jllm.engine.tensor.FloatVectors.LE;
import static dev.jllm.engine.tensor.FloatVectors.S;

/**
 * Vector API path for F16 weights: weights loaded straight from the segment, widened to F32 in registers by exponent re-biasing, and multiplied into up to
 * four inputs per load so that a batch reads and converts each weight once. Kept as its own class (no type switch or
 * shared virtual load in the loop) so the JIT compiles one tight loop per type.
 */
final class F16VectorMatrix extends SegmentMatrix {
    private static final int BYTES = 2;

    F16VectorMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.F16, data, rows, cols);
    }

    /** L weights starting at element {@code c} of the row at {@code rowOffset}, as F32. */
    private FloatVector load(long rowOffset, int c) {
        return FloatVectors.f16ToF32(ShortVector.fromMemorySegment(S, data, rowOffset + (long) c * BYTES, LE));
    }

    private float scalar(long rowOffset, int c) {
        return Float.float16ToFloat(data.get(I16_LE, rowOffset + (long) c * BYTES));
    }

    @Override
    float dot(long rowOffset, Activations a, int i) {
        float[] x = a.x;
        int xOff = a.offset + i * cols;
        int bound = F.loopBound(cols);
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int c = 0;
        for (; c + 2 * L <= bound; c += 2 * L) {
            acc0 = load(rowOffset, c).fma(FloatVector.fromArray(F, x, xOff + c), acc0);
            acc1 = load(rowOffset, c + L).fma(FloatVector.fromArray(F, x, xOff + c + L), acc1);
        }
        for (; c < bound; c += L) {
            acc0 = load(rowOffset, c).fma(FloatVector.fromArray(F, x, xOff + c), acc0);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) sum += scalar(rowOffset, c) * x[xOff + c];
        return sum;
    }

    /**
     * Dot products of one row with inputs i..i+3, written to out[outIndex + k * rows]; per input the same
     * operations in the same order as {@link #dot}, so a batch gives bit-identical results to single inputs.
     */
    private void dot4(long rowOffset, Activations a, int i, float[] out, int outIndex) {
        float[] x = a.x;
        int x0 = a.offset + i * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        int bound = F.loopBound(cols);
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        int c = 0;
        for (; c + 2 * L <= bound; c += 2 * L) {
            FloatVector w = load(rowOffset, c), v = load(rowOffset, c + L);
            a0 = w.fma(FloatVector.fromArray(F, x, x0 + c), a0);
            b0 = v.fma(FloatVector.fromArray(F, x, x0 + c + L), b0);
            a1 = w.fma(FloatVector.fromArray(F, x, x1 + c), a1);
            b1 = v.fma(FloatVector.fromArray(F, x, x1 + c + L), b1);
            a2 = w.fma(FloatVector.fromArray(F, x, x2 + c), a2);
            b2 = v.fma(FloatVector.fromArray(F, x, x2 + c + L), b2);
            a3 = w.fma(FloatVector.fromArray(F, x, x3 + c), a3);
            b3 = v.fma(FloatVector.fromArray(F, x, x3 + c + L), b3);
        }
        for (; c < bound; c += L) {
            FloatVector w = load(rowOffset, c);
            a0 = w.fma(FloatVector.fromArray(F, x, x0 + c), a0);
            a1 = w.fma(FloatVector.fromArray(F, x, x1 + c), a1);
            a2 = w.fma(FloatVector.fromArray(F, x, x2 + c), a2);
            a3 = w.fma(FloatVector.fromArray(F, x, x3 + c), a3);
        }
        float s0 = a0.add(b0).reduceLanes(VectorOperators.ADD), s1 = a1.add(b1).reduceLanes(VectorOperators.ADD);
        float s2 = a2.add(b2).reduceLanes(VectorOperators.ADD), s3 = a3.add(b3).reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) {
            float w = scalar(rowOffset, c);
            s0 += w * x[x0 + c];
            s1 += w * x[x1 + c];
            s2 += w * x[x2 + c];
            s3 += w * x[x3 + c];
        }
        out[outIndex] = s0;
        out[outIndex + rows] = s1;
        out[outIndex + 2 * rows] = s2;
        out[outIndex + 3 * rows] = s3;
    }

    @Override
    public void matmul(Activations a, float[] out, int outOffset, int rowStart, int rowEnd) {
        checkRows(rowStart, rowEnd);
        for (int r = rowStart; r < rowEnd; r++) {
            long rowOffset = r * rowBytes;
            int i = 0;
            for (; i + 4 <= a.n; i += 4) dot4(rowOffset, a, i, out, outOffset + i * rows + r);
            for (; i < a.n; i++) out[outOffset + i * rows + r] = dot(rowOffset, a, i);
        }
    }

    @Override
    public void row(int r, float[] dst, int dstOffset) {
        checkRow(r);
        long rowOffset = r * rowBytes;
        int bound = F.loopBound(cols);
        int c = 0;
        for (; c < bound; c += L) load(rowOffset, c).intoArray(dst, dstOffset + c);
        for (; c < cols; c++) dst[dstOffset + c] = scalar(rowOffset, c);
    }
}
