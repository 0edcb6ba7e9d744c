package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.jllm.engine.tensor.FloatVectors.B;
import static dev.jllm.engine.tensor.FloatVectors.F;
import static dev.jllm.engine.tensor.FloatVectors.I;
import static dev.jllm.engine.tensor.FloatVectors.L;
import static dev.jllm.engine.tensor.FloatVectors.LE;
import static dev.jllm.engine.tensor.FloatVectors.S;

/**
 * Q4_K weights . Q8_K activations (llama.cpp's ggml_vec_dot_q4_K_q8_K): per 256-block and 32-wide sub-block s,
 * {@code dx * (d * sc[s] * sum(q * qx) - dmin * m[s] * sum(qx))}; the second term uses the activation sub-block
 * sums, so the minimums cost one scalar multiply-add per sub-block. The twelve packed scale bytes are unpacked
 * with a few 64-bit operations per block ({@link #scales}, {@link #mins}).
 */
final class Q4_KVectorMatrix extends VectorQuantMatrix {
    private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    Q4_KVectorMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q4_K, data, rows, cols);
    }

    /**
     * The 8 six-bit scales of the block whose scale bytes start at {@code sc}, one per byte (sub-block s in byte s):
     * scales 0..3 are the low 6 bits of bytes 0..3; scales 4..7 the low nibbles of bytes 8..11 with the top 2 bits of
     * bytes 0..3 above them.
     */
    private long scales(long lo, long hi) {
        long low = lo & 0x3F3F3F3FL;
        long high = (hi & 0x0F0F0F0FL) | (((lo >>> 6) & 0x03030303L) << 4);
        return low | (high << 32);
    }

    /** The 8 six-bit mins, one per byte: bytes 4..7 low 6 bits; high nibbles of bytes 8..11 with the top 2 bits of bytes 4..7. */
    private long mins(long lo, long hi) {
        long low = (lo >>> 32) & 0x3F3F3F3FL;
        long high = ((hi >>> 4) & 0x0F0F0F0FL) | (((lo >>> 38) & 0x03030303L) << 4);
        return low | (high << 32);
    }

    /** sum over the 8 sub-blocks of m[s] * sum(qx of sub-block s), activations' sub-block sums from {@code qsum[s0]}. */
    private static float minTerm(long mins, float[] qsum, int s0) {
        float summ = 0f;
        for (int s = 0; s < 8; s++) summ += (int) ((mins >>> (8 * s)) & 0xFF) * qsum[s0 + s];
        return summ;
    }

    /**
     * Nibbles times 8-bit activations in 16-bit lanes (two products per lane: |sum| <= 2 * 15 * 127), the sub-block
     * scales applied in int lanes (a block's lanes stay below 8 * 63 * 3810 < 2^31, so the block sum is exact as in
     * llama.cpp), one conversion to F32 per 256-block.
     */
    @Override
    float dot(long rowOffset, Activations a, int i) {
        short[] q = a.qs;
        float[] qd = a.qd, qsum = a.qsum;
        int q0 = i * cols;
        FloatVector acc = FloatVector.zero(F);
        float minSum = 0f;
        for (int k = 0; k < cols / 256; k++) {
            long b = rowOffset + 144L * k;
            int qk = q0 + 256 * k;
            long lo = data.get(I64_LE, b + 4), hi = data.get(I32_LE, b + 12) & 0xFFFFFFFFL;
            long sc = scales(lo, hi);
            long qs = b + 16;
            IntVector blk = IntVector.zero(I); // sum over sub-blocks s of sc[s] * (q . qx), this block only
            for (int c = 0; c < 4; c++) {
                for (int j = 0; j < 32; j += 2 * L) {
                    // bytes j .. j + 2L of chunk c: low nibbles are sub-block 2c, high nibbles sub-block 2c + 1
                    ShortVector w0 = FloatVectors.bytesToShorts(ByteVector.fromMemorySegment(B, data, qs + 32 * c + j, LE));
                    ShortVector w1 = FloatVectors.bytesToShorts(ByteVector.fromMemorySegment(B, data, qs + 32 * c + j + L, LE));
                    int x = qk + 64 * c + j;
                    ShortVector pLo = w0.and((short) 0xF).mul(ShortVector.fromArray(S, q, x))
                            .add(w1.and((short) 0xF).mul(ShortVector.fromArray(S, q, x + L)));
                    ShortVector pHi = w0.lanewise(VectorOperators.LSHR, 4).and((short) 0xF).mul(ShortVector.fromArray(S, q, x + 32))
                            .add(w1.lanewise(VectorOperators.LSHR, 4).and((short) 0xF).mul(ShortVector.fromArray(S, q, x + 32 + L)));
                    int scLo = (int) ((sc >>> (16 * c)) & 0xFF), scHi = (int) ((sc >>> (16 * c + 8)) & 0xFF);
                    blk = FloatVectors.shortsToInts(pLo).mul(scLo).add(FloatVectors.shortsToInts(pHi).mul(scHi)).add(blk);
                }
            }
            float dw = FloatVectors.F16_TO_F32[data.get(I16_LE, b) & 0xFFFF];
            float dminw = FloatVectors.F16_TO_F32[data.get(I16_LE, b + 2) & 0xFFFF];
            float dx = qd[qk / 256];
            acc = ((FloatVector) blk.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, dw * dx), acc);
            minSum += dx * dminw * minTerm(mins(lo, hi), qsum, qk / 32);
        }
        return acc.reduceLanes(VectorOperators.ADD) - minSum;
    }

    /** w = d * sc[s] * q - dmin * m[s] for sub-block s: as {@link QuantBlocks#dequantizeQ4_K}, eight lanes of nibbles at a time. */
    @Override
    void decodeRow(long rowOffset, float[] dst, int dstOffset) {
        for (int k = 0; k < cols / 256; k++) {
            long b = rowOffset + 144L * k;
            long lo = data.get(I64_LE, b + 4), hi = data.get(I32_LE, b + 12) & 0xFFFFFFFFL;
            long sc = scales(lo, hi), mn = mins(lo, hi);
            float d = Float.float16ToFloat(data.get(I16_LE, b)), dmin = Float.float16ToFloat(data.get(I16_LE, b + 2));
            long qs = b + 16;
            for (int c = 0; c < 4; c++) {
                float dLo = d * ((sc >>> (16 * c)) & 0xFF), mLo = dmin * ((mn >>> (16 * c)) & 0xFF);
                float dHi = d * ((sc >>> (16 * c + 8)) & 0xFF), mHi = dmin * ((mn >>> (16 * c + 8)) & 0xFF);
                int o = dstOffset + 256 * k + 64 * c;
                for (int j = 0; j < 32; j += L) {
                    IntVector packed = FloatVectors.bytesToInts(ByteVector.fromMemorySegment(B, data, qs + 32 * c + j, LE));
                    ((FloatVector) packed.and(0xF).convert(VectorOperators.I2F, 0)).mul(dLo).sub(mLo).intoArray(dst, o + j);
                    ((FloatVector) packed.lanewise(VectorOperators.ASHR, 4).and(0xF).convert(VectorOperators.I2F, 0)).mul(dHi).sub(mHi)
                            .intoArray(dst, o + 32 + j);
                }
            }
        }
    }
}
