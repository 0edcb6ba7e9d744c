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

    @Override
    void dot2x4(long rowOffset0, long rowOffset1, Activations a, int i, float[] out, int outIndex) {
        float[] q = a.q, qd = a.qd;
        int q0 = i * cols, blocks = cols / 32;
        // acc<row><input>
        FloatVector acc00 = FloatVector.zero(F), acc01 = FloatVector.zero(F), acc02 = FloatVector.zero(F), acc03 = FloatVector.zero(F);
        FloatVector acc10 = FloatVector.zero(F), acc11 = FloatVector.zero(F), acc12 = FloatVector.zero(F), acc13 = FloatVector.zero(F);
        for (int k = 0; k < blocks; k++) {
            long b0 = rowOffset0 + 34L * k, b1 = rowOffset1 + 34L * k;
            int qk = q0 + 32 * k;
            FloatVector s00 = FloatVector.zero(F), s01 = FloatVector.zero(F), s02 = FloatVector.zero(F), s03 = FloatVector.zero(F);
            FloatVector s10 = FloatVector.zero(F), s11 = FloatVector.zero(F), s12 = FloatVector.zero(F), s13 = FloatVector.zero(F);
            for (int j = 0; j < 32; j += L) {
                FloatVector w0 = FloatVectors.bytesToF32(ByteVector.fromMemorySegment(B, data, b0 + 2 + j, LE));
                FloatVector w1 = FloatVectors.bytesToF32(ByteVector.fromMemorySegment(B, data, b1 + 2 + j, LE));
                FloatVector x0 = FloatVector.fromArray(F, q, qk + j), x1 = FloatVector.fromArray(F, q, qk + cols + j);
                FloatVector x2 = FloatVector.fromArray(F, q, qk + 2 * cols + j), x3 = FloatVector.fromArray(F, q, qk + 3 * cols + j);
                s00 = w0.fma(x0, s00);
                s01 = w0.fma(x1, s01);
                s02 = w0.fma(x2, s02);
                s03 = w0.fma(x3, s03);
                s10 = w1.fma(x0, s10);
                s11 = w1.fma(x1, s11);
                s12 = w1.fma(x2, s12);
                s13 = w1.fma(x3, s13);
            }
            float dw0 = Float.float16ToFloat(data.get(I16_LE, b0)), dw1 = Float.float16ToFloat(data.get(I16_LE, b1));
            int dk = q0 / 32 + k;
            float dx0 = qd[dk], dx1 = qd[dk + blocks], dx2 = qd[dk + 2 * blocks], dx3 = qd[dk + 3 * blocks];
            acc00 = s00.fma(FloatVector.broadcast(F, dw0 * dx0), acc00);
            acc01 = s01.fma(FloatVector.broadcast(F, dw0 * dx1), acc01);
            acc02 = s02.fma(FloatVector.broadcast(F, dw0 * dx2), acc02);
            acc03 = s03.fma(FloatVector.broadcast(F, dw0 * dx3), acc03);
            acc10 = s10.fma(FloatVector.broadcast(F, dw1 * dx0), acc10);
            acc11 = s11.fma(FloatVector.broadcast(F, dw1 * dx1), acc11);
            acc12 = s12.fma(FloatVector.broadcast(F, dw1 * dx2), acc12);
            acc13 = s13.fma(FloatVector.broadcast(F, dw1 * dx3), acc13);
        }
        out[outIndex] = acc00.reduceLanes(VectorOperators.ADD);
        out[outIndex + rows] = acc01.reduceLanes(VectorOperators.ADD);
        out[outIndex + 2 * rows] = acc02.reduceLanes(VectorOperators.ADD);
        out[outIndex + 3 * rows] = acc03.reduceLanes(VectorOperators.ADD);
        out[outIndex + 1] = acc10.reduceLanes(VectorOperators.ADD);
        out[outIndex + 1 + rows] = acc11.reduceLanes(VectorOperators.ADD);
        out[outIndex + 1 + 2 * rows] = acc12.reduceLanes(VectorOperators.ADD);
        out[outIndex + 1 + 3 * rows] = acc13.reduceLanes(VectorOperators.ADD);
    }
}
