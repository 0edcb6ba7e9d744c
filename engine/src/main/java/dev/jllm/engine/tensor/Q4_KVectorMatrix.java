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

    /** Same operations in the same order as {@link #dot4} for one input, so batches and single inputs agree bit for bit. */
    @Override
    float dot(long rowOffset, Activations a, int i) {
        float[] q = a.q, qd = a.qd, qsum = a.qsum;
        int q0 = i * cols;
        FloatVector acc = FloatVector.zero(F);
        float minSum = 0f;
        for (int k = 0; k < cols / 256; k++) {
            long b = rowOffset + 144L * k;
            int qk = q0 + 256 * k;
            long lo = data.get(I64_LE, b + 4), hi = data.get(I32_LE, b + 12) & 0xFFFFFFFFL;
            long sc = scales(lo, hi);
            long qs = b + 16;
            FloatVector blk = FloatVector.zero(F); // sum over sub-blocks of sc[s] * sum(q * qx), this block only
            for (int c = 0; c < 4; c++) {
                FloatVector sLo = FloatVector.zero(F), sHi = FloatVector.zero(F);
                for (int j = 0; j < 32; j += L) {
                    IntVector packed = FloatVectors.bytesToInts(ByteVector.fromMemorySegment(B, data, qs + 32 * c + j, LE));
                    FloatVector wLo = (FloatVector) packed.and(0xF).convert(VectorOperators.I2F, 0);
                    FloatVector wHi = (FloatVector) packed.lanewise(VectorOperators.ASHR, 4).and(0xF).convert(VectorOperators.I2F, 0);
                    sLo = wLo.fma(FloatVector.fromArray(F, q, qk + 64 * c + j), sLo);
                    sHi = wHi.fma(FloatVector.fromArray(F, q, qk + 64 * c + 32 + j), sHi);
                }
                float scLo = (sc >>> (16 * c)) & 0xFF, scHi = (sc >>> (16 * c + 8)) & 0xFF;
                blk = sHi.fma(FloatVector.broadcast(F, scHi), sLo.fma(FloatVector.broadcast(F, scLo), blk));
            }
            float dw = Float.float16ToFloat(data.get(I16_LE, b)), dminw = Float.float16ToFloat(data.get(I16_LE, b + 2));
            float dx = qd[qk / 256];
            acc = blk.fma(FloatVector.broadcast(F, dw * dx), acc);
            minSum += dx * dminw * minTerm(mins(lo, hi), qsum, qk / 32);
        }
        return acc.reduceLanes(VectorOperators.ADD) - minSum;
    }

    @Override
    void dot4(long rowOffset, Activations a, int i, float[] out, int outIndex) {
        float[] q = a.q, qd = a.qd, qsum = a.qsum;
        int q0 = i * cols;
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F), acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
        float m0 = 0f, m1 = 0f, m2 = 0f, m3 = 0f;
        for (int k = 0; k < cols / 256; k++) {
            long b = rowOffset + 144L * k;
            int qk = q0 + 256 * k;
            long lo = data.get(I64_LE, b + 4), hi = data.get(I32_LE, b + 12) & 0xFFFFFFFFL;
            long sc = scales(lo, hi);
            long qs = b + 16;
            // per input: sum over sub-blocks of sc[s] * sum(q * qx), this block only
            FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
            for (int c = 0; c < 4; c++) {
                FloatVector lo0 = FloatVector.zero(F), hi0 = FloatVector.zero(F), lo1 = FloatVector.zero(F), hi1 = FloatVector.zero(F);
                FloatVector lo2 = FloatVector.zero(F), hi2 = FloatVector.zero(F), lo3 = FloatVector.zero(F), hi3 = FloatVector.zero(F);
                for (int j = 0; j < 32; j += L) {
                    IntVector packed = FloatVectors.bytesToInts(ByteVector.fromMemorySegment(B, data, qs + 32 * c + j, LE));
                    FloatVector wLo = (FloatVector) packed.and(0xF).convert(VectorOperators.I2F, 0);
                    FloatVector wHi = (FloatVector) packed.lanewise(VectorOperators.ASHR, 4).and(0xF).convert(VectorOperators.I2F, 0);
                    int x = qk + 64 * c + j;
                    lo0 = wLo.fma(FloatVector.fromArray(F, q, x), lo0);
                    hi0 = wHi.fma(FloatVector.fromArray(F, q, x + 32), hi0);
                    lo1 = wLo.fma(FloatVector.fromArray(F, q, x + cols), lo1);
                    hi1 = wHi.fma(FloatVector.fromArray(F, q, x + cols + 32), hi1);
                    lo2 = wLo.fma(FloatVector.fromArray(F, q, x + 2 * cols), lo2);
                    hi2 = wHi.fma(FloatVector.fromArray(F, q, x + 2 * cols + 32), hi2);
                    lo3 = wLo.fma(FloatVector.fromArray(F, q, x + 3 * cols), lo3);
                    hi3 = wHi.fma(FloatVector.fromArray(F, q, x + 3 * cols + 32), hi3);
                }
                float scLo = (sc >>> (16 * c)) & 0xFF, scHi = (sc >>> (16 * c + 8)) & 0xFF;
                b0 = hi0.fma(FloatVector.broadcast(F, scHi), lo0.fma(FloatVector.broadcast(F, scLo), b0));
                b1 = hi1.fma(FloatVector.broadcast(F, scHi), lo1.fma(FloatVector.broadcast(F, scLo), b1));
                b2 = hi2.fma(FloatVector.broadcast(F, scHi), lo2.fma(FloatVector.broadcast(F, scLo), b2));
                b3 = hi3.fma(FloatVector.broadcast(F, scHi), lo3.fma(FloatVector.broadcast(F, scLo), b3));
            }
            float dw = Float.float16ToFloat(data.get(I16_LE, b)), dminw = Float.float16ToFloat(data.get(I16_LE, b + 2));
            float dx0 = qd[qk / 256], dx1 = qd[(qk + cols) / 256], dx2 = qd[(qk + 2 * cols) / 256], dx3 = qd[(qk + 3 * cols) / 256];
            acc0 = b0.fma(FloatVector.broadcast(F, dw * dx0), acc0);
            acc1 = b1.fma(FloatVector.broadcast(F, dw * dx1), acc1);
            acc2 = b2.fma(FloatVector.broadcast(F, dw * dx2), acc2);
            acc3 = b3.fma(FloatVector.broadcast(F, dw * dx3), acc3);
            long mn = mins(lo, hi);
            m0 += dx0 * dminw * minTerm(mn, qsum, qk / 32);
            m1 += dx1 * dminw * minTerm(mn, qsum, (qk + cols) / 32);
            m2 += dx2 * dminw * minTerm(mn, qsum, (qk + 2 * cols) / 32);
            m3 += dx3 * dminw * minTerm(mn, qsum, (qk + 3 * cols) / 32);
        }
        out[outIndex] = acc0.reduceLanes(VectorOperators.ADD) - m0;
        out[outIndex + rows] = acc1.reduceLanes(VectorOperators.ADD) - m1;
        out[outIndex + 2 * rows] = acc2.reduceLanes(VectorOperators.ADD) - m2;
        out[outIndex + 3 * rows] = acc3.reduceLanes(VectorOperators.ADD) - m3;
    }
}
