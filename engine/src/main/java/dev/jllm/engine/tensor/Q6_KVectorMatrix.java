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

/**
 * Q6_K weights . Q8_K activations (llama.cpp's ggml_vec_dot_q6_K_q8_K): per 256-block {@code d * dx * sum_g sc[g] *
 * sum(q * qx)} over 16-wide groups g, q rebuilt from 4 bits of ql and 2 bits of qh, minus 32.
 */
final class Q6_KVectorMatrix extends VectorQuantMatrix {

    Q6_KVectorMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q6_K, data, rows, cols);
    }

    @Override
    float dot(long rowOffset, Activations a, int i) {
        float[] q = a.q, qd = a.qd;
        int q0 = i * cols;
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < cols / 256; k++) {
            long b = rowOffset + 210L * k;
            int qk = q0 + 256 * k;
            FloatVector block = FloatVector.zero(F);
            for (int h = 0; h < 2; h++) {
                long ql = b + 64L * h, qh = b + 128 + 32L * h, sc = b + 192 + 8L * h;
                int x = qk + 128 * h;
                for (int l = 0; l < 32; l += L) {
                    ByteVector ql0 = ByteVector.fromMemorySegment(B, data, ql + l, LE);
                    ByteVector ql1 = ByteVector.fromMemorySegment(B, data, ql + 32 + l, LE);
                    ByteVector hb = ByteVector.fromMemorySegment(B, data, qh + l, LE);
                    FloatVector w1 = FloatVectors.bytesToF32(ql0.and((byte) 0xF).or(hb.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32));
                    FloatVector w2 = FloatVectors.bytesToF32(ql1.and((byte) 0xF).or(hb.lanewise(VectorOperators.LSHR, 2).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32));
                    FloatVector w3 = FloatVectors.bytesToF32(ql0.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 4).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32));
                    FloatVector w4 = FloatVectors.bytesToF32(ql1.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32));
                    int is = l / 16;
                    block = w1.mul(QuantBlocks.i8(data, sc + is)).fma(FloatVector.fromArray(F, q, x + l), block);
                    block = w2.mul(QuantBlocks.i8(data, sc + is + 2)).fma(FloatVector.fromArray(F, q, x + 32 + l), block);
                    block = w3.mul(QuantBlocks.i8(data, sc + is + 4)).fma(FloatVector.fromArray(F, q, x + 64 + l), block);
                    block = w4.mul(QuantBlocks.i8(data, sc + is + 6)).fma(FloatVector.fromArray(F, q, x + 96 + l), block);
                }
            }
            acc = block.fma(FloatVector.broadcast(F, QuantBlocks.f16(data, b + 208) * qd[qk / 256]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    void dot4(long rowOffset, Activations a, int i, float[] out, int outIndex) {
        float[] q = a.q, qd = a.qd;
        int q0 = i * cols;
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F), acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
        for (int k = 0; k < cols / 256; k++) {
            long b = rowOffset + 210L * k;
            int qk = q0 + 256 * k;
            FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
            for (int h = 0; h < 2; h++) {
                long ql = b + 64L * h, qh = b + 128 + 32L * h, sc = b + 192 + 8L * h;
                for (int l = 0; l < 32; l += L) {
                    ByteVector ql0 = ByteVector.fromMemorySegment(B, data, ql + l, LE);
                    ByteVector ql1 = ByteVector.fromMemorySegment(B, data, ql + 32 + l, LE);
                    ByteVector hb = ByteVector.fromMemorySegment(B, data, qh + l, LE);
                    int is = l / 16;
                    FloatVector w1 = FloatVectors.bytesToF32(ql0.and((byte) 0xF).or(hb.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32))
                            .mul(QuantBlocks.i8(data, sc + is));
                    FloatVector w2 = FloatVectors.bytesToF32(ql1.and((byte) 0xF).or(hb.lanewise(VectorOperators.LSHR, 2).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32))
                            .mul(QuantBlocks.i8(data, sc + is + 2));
                    FloatVector w3 = FloatVectors.bytesToF32(ql0.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 4).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32))
                            .mul(QuantBlocks.i8(data, sc + is + 4));
                    FloatVector w4 = FloatVectors.bytesToF32(ql1.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32))
                            .mul(QuantBlocks.i8(data, sc + is + 6));
                    int x = qk + 128 * h + l;
                    b0 = w4.fma(FloatVector.fromArray(F, q, x + 96), w3.fma(FloatVector.fromArray(F, q, x + 64),
                            w2.fma(FloatVector.fromArray(F, q, x + 32), w1.fma(FloatVector.fromArray(F, q, x), b0))));
                    x += cols;
                    b1 = w4.fma(FloatVector.fromArray(F, q, x + 96), w3.fma(FloatVector.fromArray(F, q, x + 64),
                            w2.fma(FloatVector.fromArray(F, q, x + 32), w1.fma(FloatVector.fromArray(F, q, x), b1))));
                    x += cols;
                    b2 = w4.fma(FloatVector.fromArray(F, q, x + 96), w3.fma(FloatVector.fromArray(F, q, x + 64),
                            w2.fma(FloatVector.fromArray(F, q, x + 32), w1.fma(FloatVector.fromArray(F, q, x), b2))));
                    x += cols;
                    b3 = w4.fma(FloatVector.fromArray(F, q, x + 96), w3.fma(FloatVector.fromArray(F, q, x + 64),
                            w2.fma(FloatVector.fromArray(F, q, x + 32), w1.fma(FloatVector.fromArray(F, q, x), b3))));
                }
            }
            float dw = QuantBlocks.f16(data, b + 208);
            acc0 = b0.fma(FloatVector.broadcast(F, dw * qd[qk / 256]), acc0);
            acc1 = b1.fma(FloatVector.broadcast(F, dw * qd[(qk + cols) / 256]), acc1);
            acc2 = b2.fma(FloatVector.broadcast(F, dw * qd[(qk + 2 * cols) / 256]), acc2);
            acc3 = b3.fma(FloatVector.broadcast(F, dw * qd[(qk + 3 * cols) / 256]), acc3);
        }
        out[outIndex] = acc0.reduceLanes(VectorOperators.ADD);
        out[outIndex + rows] = acc1.reduceLanes(VectorOperators.ADD);
        out[outIndex + 2 * rows] = acc2.reduceLanes(VectorOperators.ADD);
        out[outIndex + 3 * rows] = acc3.reduceLanes(VectorOperators.ADD);
    }
}
