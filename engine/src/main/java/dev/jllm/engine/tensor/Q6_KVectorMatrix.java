package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.jllm.engine.tensor.FloatVectors.B;
import static dev.jllm.engine.tensor.FloatVectors.F;
import static dev.jllm.engine.tensor.FloatVectors.L;
import static dev.jllm.engine.tensor.FloatVectors.LE;

/**
 * Q6_K weights . Q8_K activations (llama.cpp's ggml_vec_dot_q6_K_q8_K): per 256-block {@code d * dx * sum_g sc[g] *
 * sum(q * qx)} over 16-wide groups g, q rebuilt from 4 bits of ql and 2 bits of qh, minus 32.
 *
 * <p>The 6-bit values are rebuilt in int lanes, scaled by their group scale and multiplied into the activations in
 * one pass. Each lane sums 16 products below 2^19 per block, so block sums stay exact integers as in llama.cpp.
 * The scales come from one 64-bit read per half block: helper calls in this loop body would exceed the JIT's
 * inlining budget (NodeCountInliningCutoff) and leave them as real calls that spill every vector register.
 */
final class Q6_KVectorMatrix extends VectorQuantMatrix {
    private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

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
            FloatVector sA = FloatVector.zero(F), sB = FloatVector.zero(F); // two chains of fma
            for (int h = 0; h < 2; h++) {
                long ql = b + 64L * h, qh = b + 128 + 32L * h;
                long scales = data.get(I64_LE, b + 192 + 8L * h); // the 8 signed scales of this half
                int x = qk + 128 * h;
                for (int l = 0; l < 32; l += L) {
                    IntVector ql0 = FloatVectors.bytesToInts(ByteVector.fromMemorySegment(B, data, ql + l, LE));
                    IntVector ql1 = FloatVectors.bytesToInts(ByteVector.fromMemorySegment(B, data, ql + 32 + l, LE));
                    IntVector hb = FloatVectors.bytesToInts(ByteVector.fromMemorySegment(B, data, qh + l, LE));
                    int g = l / 16; // scale of (half h, value m, slice l) is byte g + 2m of this half
                    IntVector v1 = ql0.and(0xF).or(hb.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector v2 = ql1.and(0xF).or(hb.and(0xC).lanewise(VectorOperators.LSHL, 2)).sub(32);
                    IntVector v3 = ql0.lanewise(VectorOperators.ASHR, 4).and(0xF).or(hb.and(0x30)).sub(32);
                    IntVector v4 = ql1.lanewise(VectorOperators.ASHR, 4).and(0xF).or(hb.lanewise(VectorOperators.ASHR, 2).and(0x30)).sub(32);
                    sA = ((FloatVector) v1.convert(VectorOperators.I2F, 0)).mul((byte) (scales >>> (8 * g)))
                            .fma(FloatVector.fromArray(F, q, x + l), sA);
                    sB = ((FloatVector) v2.convert(VectorOperators.I2F, 0)).mul((byte) (scales >>> (8 * g + 16)))
                            .fma(FloatVector.fromArray(F, q, x + 32 + l), sB);
                    sA = ((FloatVector) v3.convert(VectorOperators.I2F, 0)).mul((byte) (scales >>> (8 * g + 32)))
                            .fma(FloatVector.fromArray(F, q, x + 64 + l), sA);
                    sB = ((FloatVector) v4.convert(VectorOperators.I2F, 0)).mul((byte) (scales >>> (8 * g + 48)))
                            .fma(FloatVector.fromArray(F, q, x + 96 + l), sB);
                }
            }
            float d = Float.float16ToFloat(data.get(I16_LE, b + 208)) * qd[qk / 256];
            acc = sA.add(sB).fma(FloatVector.broadcast(F, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** w = d * sc[g] * q as {@link QuantBlocks#dequantizeQ6_K}, the 6-bit values rebuilt as in {@link #dot}. */
    @Override
    void decodeRow(long rowOffset, float[] dst, int dstOffset) {
        for (int k = 0; k < cols / 256; k++) {
            long b = rowOffset + 210L * k;
            float d = Float.float16ToFloat(data.get(I16_LE, b + 208));
            for (int h = 0; h < 2; h++) {
                long ql = b + 64L * h, qh = b + 128 + 32L * h;
                long scales = data.get(I64_LE, b + 192 + 8L * h);
                for (int l = 0; l < 32; l += L) {
                    IntVector ql0 = FloatVectors.bytesToInts(ByteVector.fromMemorySegment(B, data, ql + l, LE));
                    IntVector ql1 = FloatVectors.bytesToInts(ByteVector.fromMemorySegment(B, data, ql + 32 + l, LE));
                    IntVector hb = FloatVectors.bytesToInts(ByteVector.fromMemorySegment(B, data, qh + l, LE));
                    int g = l / 16, o = dstOffset + 256 * k + 128 * h + l;
                    IntVector v1 = ql0.and(0xF).or(hb.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector v2 = ql1.and(0xF).or(hb.and(0xC).lanewise(VectorOperators.LSHL, 2)).sub(32);
                    IntVector v3 = ql0.lanewise(VectorOperators.ASHR, 4).and(0xF).or(hb.and(0x30)).sub(32);
                    IntVector v4 = ql1.lanewise(VectorOperators.ASHR, 4).and(0xF).or(hb.lanewise(VectorOperators.ASHR, 2).and(0x30)).sub(32);
                    ((FloatVector) v1.convert(VectorOperators.I2F, 0)).mul(d * (byte) (scales >>> (8 * g))).intoArray(dst, o);
                    ((FloatVector) v2.convert(VectorOperators.I2F, 0)).mul(d * (byte) (scales >>> (8 * g + 16))).intoArray(dst, o + 32);
                    ((FloatVector) v3.convert(VectorOperators.I2F, 0)).mul(d * (byte) (scales >>> (8 * g + 32))).intoArray(dst, o + 64);
                    ((FloatVector) v4.convert(VectorOperators.I2F, 0)).mul(d * (byte) (scales >>> (8 * g + 48))).intoArray(dst, o + 96);
                }
            }
        }
    }
}
