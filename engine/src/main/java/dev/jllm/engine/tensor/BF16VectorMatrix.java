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
 * Vector API path for BF16 weights: weights loaded straight from the segment, widened to F32 in registers by a 16-bit shift; batches go through the
 * {@link TiledMatrix} path. Kept as its own class (no type switch or
 * shared virtual load in the loop) so the JIT compiles one tight loop per type.
 */
final class BF16VectorMatrix extends TiledMatrix {
    private static final int BYTES = 2;

    BF16VectorMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.BF16, data, rows, cols);
    }

    /** L weights starting at element {@code c} of the row at {@code rowOffset}, as F32. */
    private FloatVector load(long rowOffset, int c) {
        return FloatVectors.bf16ToF32(ShortVector.fromMemorySegment(S, data, rowOffset + (long) c * BYTES, LE));
    }

    private float scalar(long rowOffset, int c) {
        return FloatMatrix.bf16ToFloat(data.get(I16_LE, rowOffset + (long) c * BYTES));
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

    @Override
    void decodeRow(long rowOffset, float[] dst, int dstOffset) {
        int bound = F.loopBound(cols);
        int c = 0;
        for (; c < bound; c += L) load(rowOffset, c).intoArray(dst, dstOffset + c);
        for (; c < cols; c++) dst[dstOffset + c] = scalar(rowOffset, c);
    }
}
