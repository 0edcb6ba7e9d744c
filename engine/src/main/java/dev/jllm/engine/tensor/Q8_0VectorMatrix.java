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

    @Override
    void dot4(long rowOffset, Activations a, int i, float[] out, int outIndex) {
        float[] q = a.q, qd = a.qd;
        int q0 = i * cols, blocks = cols / 32;
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F), acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
        for (int k = 0; k < blocks; k++) {
            long b = rowOffset + 34L * k;
            int qk = q0 + 32 * k;
            FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
            for (int j = 0; j < 32; j += L) {
                FloatVector w = FloatVectors.bytesToF32(ByteVector.fromMemorySegment(B, data, b + 2 + j, LE));
                s0 = w.fma(FloatVector.fromArray(F, q, qk + j), s0);
                s1 = w.fma(FloatVector.fromArray(F, q, qk + cols + j), s1);
                s2 = w.fma(FloatVector.fromArray(F, q, qk + 2 * cols + j), s2);
                s3 = w.fma(FloatVector.fromArray(F, q, qk + 3 * cols + j), s3);
            }
            float dw = Float.float16ToFloat(data.get(I16_LE, b));
            int dk = q0 / 32 + k;
            acc0 = s0.fma(FloatVector.broadcast(F, dw * qd[dk]), acc0);
            acc1 = s1.fma(FloatVector.broadcast(F, dw * qd[dk + blocks]), acc1);
            acc2 = s2.fma(FloatVector.broadcast(F, dw * qd[dk + 2 * blocks]), acc2);
            acc3 = s3.fma(FloatVector.broadcast(F, dw * qd[dk + 3 * blocks]), acc3);
        }
        out[outIndex] = acc0.reduceLanes(VectorOperators.ADD);
        out[outIndex + rows] = acc1.reduceLanes(VectorOperators.ADD);
        out[outIndex + 2 * rows] = acc2.reduceLanes(VectorOperators.ADD);
        out[outIndex + 3 * rows] = acc3.reduceLanes(VectorOperators.ADD);
    }
}
