package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.jllm.engine.tensor.FloatVectors.B;
import static dev.jllm.engine.tensor.FloatVectors.F;
import static dev.jllm.engine.tensor.FloatVectors.L;
import static dev.jllm.engine.tensor.FloatVectors.LE;

/** Q8_0 weights . Q8_0 activations: per 32-block, sum(qw * qx) times dw * dx (llama.cpp's ggml_vec_dot_q8_0_q8_0). */
final class Q8_0VectorMatrix extends VectorQuantMatrix {

    Q8_0VectorMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q8_0, data, rows, cols);
    }

    @Override
    float dot(long rowOffset, Activations a, int i) {
        float[] q = a.q, qd = a.qd;
        int q0 = i * cols, d0 = q0 / 32;
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < cols / 32; k++) {
            long b = rowOffset + 34L * k;
            int qk = q0 + 32 * k;
            FloatVector s = FloatVector.zero(F);
            for (int j = 0; j < 32; j += L) {
                FloatVector w = FloatVectors.bytesToF32(ByteVector.fromMemorySegment(B, data, b + 2 + j, LE));
                s = w.fma(FloatVector.fromArray(F, q, qk + j), s);
            }
            acc = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(data.get(I16_LE, b)) * qd[d0 + k]), acc);
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
