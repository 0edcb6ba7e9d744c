package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Scalar definitions of ggml's quantized blocks (layouts as in ggml-common.h), one method per block type:
 * dequantization, the dot product with 8-bit activations the way llama.cpp computes it (integer sums per block,
 * then scales), and a simple quantizer used to write files and test data.
 *
 * <pre>
 * Q8_0 (32 weights, 34 bytes):  f16 d | i8 qs[32]                       w = d * qs[j]
 * Q4_0 (32 weights, 18 bytes):  f16 d | u8 qs[16]                       w[j] = d * ((qs[j] &amp; 15) - 8), w[j+16] = d * ((qs[j] &gt;&gt; 4) - 8)
 * Q4_K (256 weights, 144 bytes): f16 d | f16 dmin | u8 scales[12] | u8 qs[128]
 *      8 sub-blocks of 32 with 6-bit scale sc and min m packed in scales[12]; w = d * sc * q - dmin * m,
 *      q the low nibbles of qs[32k..32k+32) for sub-block 2k, the high nibbles for sub-block 2k+1
 * Q6_K (256 weights, 210 bytes): u8 ql[128] | u8 qh[64] | i8 scales[16] | f16 d
 *      16 groups of 16 with 8-bit signed scale; q = (4 low bits from ql | 2 high bits from qh) - 32; w = d * sc * q
 * </pre>
 */
final class QuantBlocks {
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private QuantBlocks() {
    }

    static float f16(MemorySegment s, long offset) {
        return Float.float16ToFloat(s.get(I16_LE, offset));
    }

    static int u8(MemorySegment s, long offset) {
        return s.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
    }

    static int i8(MemorySegment s, long offset) {
        return s.get(ValueLayout.JAVA_BYTE, offset);
    }

    // ---- dequantization: one block at byte offset b into dst[dstOff ..] ----

    static void dequantize(GgmlType type, MemorySegment s, long b, float[] dst, int dstOff) {
        switch (type) {
            case Q8_0 -> dequantizeQ8_0(s, b, dst, dstOff);
            case Q4_0 -> dequantizeQ4_0(s, b, dst, dstOff);
            case Q4_K -> dequantizeQ4_K(s, b, dst, dstOff);
            case Q6_K -> dequantizeQ6_K(s, b, dst, dstOff);
            default -> throw new IllegalArgumentException("not a supported quantized type: " + type);
        }
    }

    static void dequantizeQ8_0(MemorySegment s, long b, float[] dst, int o) {
        float d = f16(s, b);
        for (int j = 0; j < 32; j++) dst[o + j] = d * i8(s, b + 2 + j);
    }

    static void dequantizeQ4_0(MemorySegment s, long b, float[] dst, int o) {
        float d = f16(s, b);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, b + 2 + j);
            dst[o + j] = d * ((q & 0xF) - 8);
            dst[o + j + 16] = d * ((q >> 4) - 8);
        }
    }

    /** 6-bit scale of Q4_K sub-block {@code j} (0..7) from the 12 packed bytes at {@code sc}. */
    static int q4kScale(MemorySegment s, long sc, int j) {
        return j < 4 ? u8(s, sc + j) & 63 : (u8(s, sc + j + 4) & 0xF) | ((u8(s, sc + j - 4) >> 6) << 4);
    }

    /** 6-bit min of Q4_K sub-block {@code j}. */
    static int q4kMin(MemorySegment s, long sc, int j) {
        return j < 4 ? u8(s, sc + j + 4) & 63 : (u8(s, sc + j + 4) >> 4) | ((u8(s, sc + j) >> 6) << 4);
    }

    static void dequantizeQ4_K(MemorySegment s, long b, float[] dst, int o) {
        float d = f16(s, b), dmin = f16(s, b + 2);
        long sc = b + 4, qs = b + 16;
        for (int k = 0; k < 4; k++) {
            float d1 = d * q4kScale(s, sc, 2 * k), m1 = dmin * q4kMin(s, sc, 2 * k);
            float d2 = d * q4kScale(s, sc, 2 * k + 1), m2 = dmin * q4kMin(s, sc, 2 * k + 1);
            for (int l = 0; l < 32; l++) {
                int q = u8(s, qs + 32 * k + l);
                dst[o + 64 * k + l] = d1 * (q & 0xF) - m1;
                dst[o + 64 * k + 32 + l] = d2 * (q >> 4) - m2;
            }
        }
    }

    /** The 6-bit value (minus 32) of weight {@code w} (0..255) of a Q6_K block. */
    static int q6kValue(MemorySegment s, long b, int w) {
        int half = w / 128, pos = w % 128, quarter = pos / 32, l = pos % 32;
        long ql = b + 64L * half, qh = b + 128 + 32L * half;
        int low = quarter % 2 == 0 ? u8(s, ql + l) : u8(s, ql + l + 32);
        low = quarter < 2 ? low & 0xF : low >> 4;
        int high = (u8(s, qh + l) >> (2 * quarter)) & 3;
        return (low | (high << 4)) - 32;
    }

    static void dequantizeQ6_K(MemorySegment s, long b, float[] dst, int o) {
        float d = f16(s, b + 208);
        for (int w = 0; w < 256; w++) dst[o + w] = d * i8(s, b + 192 + w / 16) * q6kValue(s, b, w);
    }

    // ---- dot product with quantized activations, integer sums as llama.cpp does ----

    /** Row at {@code rowOffset} (cols weights) . input {@code i} of {@code a} (already quantized for this type). */
    static float dotQuantized(GgmlType type, MemorySegment s, long rowOffset, int cols, Activations a, int i) {
        int qBase = i * cols;
        float sum = 0f;
        int blocks = cols / type.blockSize;
        for (int k = 0; k < blocks; k++) {
            long b = rowOffset + (long) k * type.blockBytes;
            int q0 = qBase + k * type.blockSize; // first activation of this block
            switch (type) {
                case Q8_0 -> {
                    int sumi = 0;
                    for (int j = 0; j < 32; j++) sumi += i8(s, b + 2 + j) * (int) a.q[q0 + j];
                    sum += sumi * (f16(s, b) * a.qd[q0 / 32]);
                }
                case Q4_0 -> {
                    int sumi = 0;
                    for (int j = 0; j < 16; j++) {
                        int q = u8(s, b + 2 + j);
                        sumi += ((q & 0xF) - 8) * (int) a.q[q0 + j] + ((q >> 4) - 8) * (int) a.q[q0 + j + 16];
                    }
                    sum += sumi * (f16(s, b) * a.qd[q0 / 32]);
                }
                case Q4_K -> {
                    float dx = a.qd[q0 / 256];
                    long sc = b + 4, qs = b + 16;
                    int sumi = 0, summ = 0;
                    for (int sub = 0; sub < 8; sub++) {
                        int dot = 0;
                        for (int l = 0; l < 32; l++) {
                            int q = u8(s, qs + 32 * (sub / 2) + l);
                            q = sub % 2 == 0 ? q & 0xF : q >> 4;
                            dot += q * (int) a.q[q0 + 32 * sub + l];
                        }
                        sumi += q4kScale(s, sc, sub) * dot;
                        summ += q4kMin(s, sc, sub) * (int) a.qsum[q0 / 32 + sub];
                    }
                    sum += dx * f16(s, b) * sumi - dx * f16(s, b + 2) * summ;
                }
                case Q6_K -> {
                    int sumi = 0;
                    for (int g = 0; g < 16; g++) {
                        int dot = 0;
                        for (int l = 0; l < 16; l++) dot += q6kValue(s, b, 16 * g + l) * (int) a.q[q0 + 16 * g + l];
                        sumi += i8(s, b + 192 + g) * dot;
                    }
                    sum += a.qd[q0 / 256] * f16(s, b + 208) * sumi;
                }
                default -> throw new IllegalArgumentException("not a supported quantized type: " + type);
            }
        }
        return sum;
    }

    /** The activation quantization a type's integer dot product pairs with (Q8_0 for 32-blocks, Q8_K for K-quants). */
    static Activations quantizeActivations(GgmlType type, float[] x, int offset, int n, int cols) {
        return type.blockSize == 256 ? Activations.q8_K(x, offset, n, cols) : Activations.q8_0(x, offset, n, cols);
    }

    // ---- quantization (simple round-to-nearest; for writing files and test data) ----

    /** Quantizes {@code type.blockSize} floats from {@code src[o ..]} into one block at {@code dst[b ..]}. */
    static void quantize(GgmlType type, float[] src, int o, MemorySegment dst, long b) {
        switch (type) {
            case Q8_0 -> quantizeQ8_0(src, o, dst, b);
            case Q4_0 -> quantizeQ4_0(src, o, dst, b);
            case Q4_K -> quantizeQ4_K(src, o, dst, b);
            case Q6_K -> quantizeQ6_K(src, o, dst, b);
            default -> throw new IllegalArgumentException("not a supported quantized type: " + type);
        }
    }

    static void quantizeQ8_0(float[] x, int o, MemorySegment dst, long b) {
        float amax = 0f;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
        float d = amax / 127f, id = d != 0f ? 1f / d : 0f;
        dst.set(I16_LE, b, Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) dst.set(ValueLayout.JAVA_BYTE, b + 2 + j, (byte) Math.round(x[o + j] * id));
    }

    /** As ggml's quantize_row_q4_0_ref: the signed value of largest magnitude maps to -8. */
    static void quantizeQ4_0(float[] x, int o, MemorySegment dst, long b) {
        float amax = 0f, max = 0f;
        for (int j = 0; j < 32; j++) {
            if (Math.abs(x[o + j]) > amax) {
                amax = Math.abs(x[o + j]);
                max = x[o + j];
            }
        }
        float d = max / -8f, id = d != 0f ? 1f / d : 0f;
        dst.set(I16_LE, b, Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) (x[o + j] * id + 8.5f));
            int hi = Math.min(15, (int) (x[o + j + 16] * id + 8.5f));
            dst.set(ValueLayout.JAVA_BYTE, b + 2 + j, (byte) (lo | (hi << 4)));
        }
    }

    /** Min/max per 32-wide sub-block, scales and mins quantized to 6 bits against the block's d and dmin. */
    static void quantizeQ4_K(float[] x, int o, MemorySegment dst, long b) {
        float[] scale = new float[8], min = new float[8];
        float maxScale = 0f, maxMin = 0f;
        for (int sub = 0; sub < 8; sub++) {
            float lo = Float.MAX_VALUE, hi = -Float.MAX_VALUE;
            for (int l = 0; l < 32; l++) {
                lo = Math.min(lo, x[o + 32 * sub + l]);
                hi = Math.max(hi, x[o + 32 * sub + l]);
            }
            lo = Math.min(lo, 0f); // w = scale * q - min with min >= 0
            scale[sub] = (hi - lo) / 15f;
            min[sub] = -lo;
            maxScale = Math.max(maxScale, scale[sub]);
            maxMin = Math.max(maxMin, min[sub]);
        }
        float d = maxScale / 63f, dmin = maxMin / 63f;
        dst.set(I16_LE, b, Float.floatToFloat16(d));
        dst.set(I16_LE, b + 2, Float.floatToFloat16(dmin));
        float dq = Float.float16ToFloat(Float.floatToFloat16(d)), dminq = Float.float16ToFloat(Float.floatToFloat16(dmin));
        int[] sc = new int[8], m = new int[8];
        for (int sub = 0; sub < 8; sub++) {
            sc[sub] = dq > 0 ? Math.min(63, Math.round(scale[sub] / dq)) : 0;
            m[sub] = dminq > 0 ? Math.min(63, Math.round(min[sub] / dminq)) : 0;
        }
        byte[] packed = new byte[12];
        for (int j = 0; j < 4; j++) {
            packed[j] = (byte) (sc[j] | ((sc[j + 4] >> 4) << 6));
            packed[j + 4] = (byte) (m[j] | ((m[j + 4] >> 4) << 6));
            packed[j + 8] = (byte) ((sc[j + 4] & 0xF) | ((m[j + 4] & 0xF) << 4));
        }
        for (int j = 0; j < 12; j++) dst.set(ValueLayout.JAVA_BYTE, b + 4 + j, packed[j]);
        for (int k = 0; k < 4; k++) {
            for (int l = 0; l < 32; l++) {
                int lo = nibble(x[o + 64 * k + l], dq * sc[2 * k], dminq * m[2 * k]);
                int hi = nibble(x[o + 64 * k + 32 + l], dq * sc[2 * k + 1], dminq * m[2 * k + 1]);
                dst.set(ValueLayout.JAVA_BYTE, b + 16 + 32 * k + l, (byte) (lo | (hi << 4)));
            }
        }
    }

    private static int nibble(float v, float scale, float min) {
        if (scale == 0f) return 0;
        return Math.max(0, Math.min(15, Math.round((v + min) / scale)));
    }

    /** Absmax per 16-wide group to a signed 8-bit scale against the block's d; values to 6 bits. */
    static void quantizeQ6_K(float[] x, int o, MemorySegment dst, long b) {
        float[] groupScale = new float[16];
        float maxAbsScale = 0f, maxScale = 0f;
        for (int g = 0; g < 16; g++) {
            float amax = 0f, max = 0f;
            for (int l = 0; l < 16; l++) {
                float v = x[o + 16 * g + l];
                if (Math.abs(v) > amax) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            groupScale[g] = max / -32f; // the largest magnitude maps to -32
            if (Math.abs(groupScale[g]) > maxAbsScale) {
                maxAbsScale = Math.abs(groupScale[g]);
                maxScale = groupScale[g];
            }
        }
        float d = maxScale / -128f;
        dst.set(I16_LE, b + 208, Float.floatToFloat16(d));
        float dq = Float.float16ToFloat(Float.floatToFloat16(d));
        byte[] ql = new byte[128], qh = new byte[64];
        for (int g = 0; g < 16; g++) {
            int sc = dq != 0f ? Math.max(-128, Math.min(127, Math.round(groupScale[g] / dq))) : 0;
            dst.set(ValueLayout.JAVA_BYTE, b + 192 + g, (byte) sc);
            float step = dq * sc;
            for (int l = 0; l < 16; l++) {
                int w = 16 * g + l;
                int q = step != 0f ? Math.max(-32, Math.min(31, Math.round(x[o + w] / step))) + 32 : 32;
                int half = w / 128, pos = w % 128, quarter = pos / 32, j = pos % 32;
                int qlIndex = 64 * half + j + (quarter % 2 == 1 ? 32 : 0);
                ql[qlIndex] |= (byte) (quarter < 2 ? q & 0xF : (q & 0xF) << 4);
                qh[32 * half + j] |= (byte) ((q >> 4) << (2 * quarter));
            }
        }
        for (int j = 0; j < 128; j++) dst.set(ValueLayout.JAVA_BYTE, b + j, ql[j]);
        for (int j = 0; j < 64; j++) dst.set(ValueLayout.JAVA_BYTE, b + 128 + j, qh[j]);
    }
}
