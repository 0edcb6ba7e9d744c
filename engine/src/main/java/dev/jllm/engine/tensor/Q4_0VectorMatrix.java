package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.jllm.engine.tensor.FloatVectors.B;
import static dev.jllm.engine.tensor.FloatVectors.F;
import static dev.jllm.engine.tensor.FloatVectors.L;
import static dev.jllm.engine.tensor.FloatVectors.LE;

/**
 * Q4_0 weights . Q8_0 activations: per 32-block the low nibbles of the 16 bytes are weights 0..15, the high nibbles
 * weights 16..31, each minus 8; sum(qw * qx) times dw * dx (llama.cpp's ggml_vec_dot_q4_0_q8_0). The nibbles are
 * taken apart in int lanes, and the -8 is applied once per block through the activation block sum:
 * {@code sum((n - 8) * qx) = sum(n * qx) - 8 * sum(qx)}.
 */
final class Q4_0VectorMatrix extends VectorQuantMatrix {

    Q4_0VectorMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q4_0, data, rows, cols);
    }

    @Override
    float dot(long rowOffset, Activations a, int i) {
        float[] q = a.q, qd = a.qd, qsum = a.qsum;
        int q0 = i * cols, d0 = q0 / 32;
        FloatVector acc = FloatVector.zero(F);
        float offset = 0f; // sum over blocks of scale * 8 * sum(qx)
        for (int k = 0; k < cols / 32; k++) {
            long b = rowOffset + 18L * k;
            int qk = q0 + 32 * k;
            FloatVector s = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) {
                IntVector packed = FloatVectors.bytesToInts(ByteVector.fromMemorySegment(B, data, b + 2 + j, LE));
                FloatVector lo = (FloatVector) packed.and(0xF).convert(VectorOperators.I2F, 0);
                FloatVector hi = (FloatVector) packed.lanewise(VectorOperators.ASHR, 4).and(0xF).convert(VectorOperators.I2F, 0);
                s = lo.fma(FloatVector.fromArray(F, q, qk + j), s);
                s = hi.fma(FloatVector.fromArray(F, q, qk + 16 + j), s);
            }
            float scale = Float.float16ToFloat(data.get(I16_LE, b)) * qd[d0 + k];
            acc = s.fma(FloatVector.broadcast(F, scale), acc);
            offset += scale * 8f * qsum[d0 + k];
        }
        return acc.reduceLanes(VectorOperators.ADD) - offset;
    }

    @Override
    void dot4(long rowOffset, Activations a, int i, float[] out, int outIndex) {
        float[] q = a.q, qd = a.qd, qsum = a.qsum;
        int q0 = i * cols, blocks = cols / 32;
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F), acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
        float o0 = 0f, o1 = 0f, o2 = 0f, o3 = 0f; // per input: sum over blocks of scale * 8 * sum(qx)
        for (int k = 0; k < blocks; k++) {
            long b = rowOffset + 18L * k;
            int qk = q0 + 32 * k;
            FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) {
                IntVector packed = FloatVectors.bytesToInts(ByteVector.fromMemorySegment(B, data, b + 2 + j, LE));
                FloatVector lo = (FloatVector) packed.and(0xF).convert(VectorOperators.I2F, 0);
                FloatVector hi = (FloatVector) packed.lanewise(VectorOperators.ASHR, 4).and(0xF).convert(VectorOperators.I2F, 0);
                s0 = lo.fma(FloatVector.fromArray(F, q, qk + j), s0);
                s0 = hi.fma(FloatVector.fromArray(F, q, qk + 16 + j), s0);
                s1 = lo.fma(FloatVector.fromArray(F, q, qk + cols + j), s1);
                s1 = hi.fma(FloatVector.fromArray(F, q, qk + cols + 16 + j), s1);
                s2 = lo.fma(FloatVector.fromArray(F, q, qk + 2 * cols + j), s2);
                s2 = hi.fma(FloatVector.fromArray(F, q, qk + 2 * cols + 16 + j), s2);
                s3 = lo.fma(FloatVector.fromArray(F, q, qk + 3 * cols + j), s3);
                s3 = hi.fma(FloatVector.fromArray(F, q, qk + 3 * cols + 16 + j), s3);
            }
            float dw = Float.float16ToFloat(data.get(I16_LE, b));
            int dk = q0 / 32 + k;
            float c0 = dw * qd[dk], c1 = dw * qd[dk + blocks], c2 = dw * qd[dk + 2 * blocks], c3 = dw * qd[dk + 3 * blocks];
            acc0 = s0.fma(FloatVector.broadcast(F, c0), acc0);
            acc1 = s1.fma(FloatVector.broadcast(F, c1), acc1);
            acc2 = s2.fma(FloatVector.broadcast(F, c2), acc2);
            acc3 = s3.fma(FloatVector.broadcast(F, c3), acc3);
            o0 += c0 * 8f * qsum[dk];
            o1 += c1 * 8f * qsum[dk + blocks];
            o2 += c2 * 8f * qsum[dk + 2 * blocks];
            o3 += c3 * 8f * qsum[dk + 3 * blocks];
        }
        out[outIndex] = acc0.reduceLanes(VectorOperators.ADD) - o0;
        out[outIndex + rows] = acc1.reduceLanes(VectorOperators.ADD) - o1;
        out[outIndex + 2 * rows] = acc2.reduceLanes(VectorOperators.ADD) - o2;
        out[outIndex + 3 * rows] = acc3.reduceLanes(VectorOperators.ADD) - o3;
    }
}
