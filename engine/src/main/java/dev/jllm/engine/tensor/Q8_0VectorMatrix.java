package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.jllm.engine.tensor.FloatVectors.B;
import static dev.jllm.engine.tensor.FloatVectors.F;
import static dev.jllm.engine.tensor.FloatVectors.L;
import static dev.jllm.engine.tensor.FloatVectors.LE;
import static dev.jllm.engine.tensor.FloatVectors.S;

/** Q8_0 weights . Q8_0 activations: per 32-block, sum(qw * qx) times dw * dx (llama.cpp's ggml_vec_dot_q8_0_q8_0), integer products in 16-bit lanes. */
final class Q8_0VectorMatrix extends VectorQuantMatrix {

    Q8_0VectorMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q8_0, data, rows, cols);
    }

    /**
     * Weights j and j + 16 of a block times their activations in 16-bit lanes: each 8-bit product is exact and so is
     * the sum of two (|sum| <= 2 * 128 * 127 < 2^15); widened to F32 once per block and scaled by dw * dx.
     */
    @Override
    float dot(long rowOffset, Activations a, int i) {
        short[] q = a.qs;
        float[] qd = a.qd;
        int q0 = i * cols, d0 = q0 / 32;
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < cols / 32; k++) {
            long b = rowOffset + 34L * k;
            int qk = q0 + 32 * k;
            FloatVector scale = FloatVector.broadcast(F, Float.float16ToFloat(data.get(I16_LE, b)) * qd[d0 + k]);
            for (int j = 0; j < 16; j += L) {
                ShortVector p = FloatVectors.bytesToShorts(ByteVector.fromMemorySegment(B, data, b + 2 + j, LE))
                        .mul(ShortVector.fromArray(S, q, qk + j))
                        .add(FloatVectors.bytesToShorts(ByteVector.fromMemorySegment(B, data, b + 18 + j, LE))
                                .mul(ShortVector.fromArray(S, q, qk + 16 + j)));
                acc = FloatVectors.shortsToF32(p).fma(scale, acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** w = d * q per 32-block. */
    @Override
    void decodeRow(long rowOffset, float[] dst, int dstOffset) {
        for (int k = 0; k < cols / 32; k++) {
            long b = rowOffset + 34L * k;
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(data.get(I16_LE, b)));
            for (int j = 0; j < 32; j += L) {
                FloatVectors.bytesToF32(ByteVector.fromMemorySegment(B, data, b + 2 + j, LE)).mul(d)
                        .intoArray(dst, dstOffset + 32 * k + j);
            }
        }
    }
}
