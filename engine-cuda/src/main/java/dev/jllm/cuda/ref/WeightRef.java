package dev.jllm.cuda.ref;

import dev.jllm.gguf.GgmlType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * CPU twins of the weight reads in {@code common.cuh} / {@code matvec.cuh}: dequantization of ggml
 * blocks (GGUF layout), of one weight in device layout ({@code load_weight}), and the matrix-vector
 * product every {@code jllm_matvec_*} kernel computes (accumulated in double).
 */
public final class WeightRef {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private WeightRef() {
    }

    static float f16(MemorySegment s, long at) {
        return Float.float16ToFloat(s.get(I16, at));
    }

    static float bf16(MemorySegment s, long at) {
        return Float.intBitsToFloat((s.get(I16, at) & 0xFFFF) << 16);
    }

    static int u8(MemorySegment s, long at) {
        return s.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
    }

    static int i8(MemorySegment s, long at) {
        return s.get(ValueLayout.JAVA_BYTE, at);
    }

    /** Row {@code r} of a {@code rows x cols} matrix in GGUF layout, dequantized into {@code dst[0..cols)}. */
    public static void ggmlRow(GgmlType type, MemorySegment w, int cols, int r, float[] dst) {
        long rowBytes = type.bytesFor(cols);
        long base = r * rowBytes;
        switch (type) {
            case F32 -> { for (int c = 0; c < cols; c++) dst[c] = w.get(F32, base + 4L * c); }
            case F16 -> { for (int c = 0; c < cols; c++) dst[c] = f16(w, base + 2L * c); }
            case BF16 -> { for (int c = 0; c < cols; c++) dst[c] = bf16(w, base + 2L * c); }
            case Q8_0 -> {
                for (int b = 0; b < cols / 32; b++) {
                    long o = base + 34L * b;
                    float d = f16(w, o);
                    for (int j = 0; j < 32; j++) dst[32 * b + j] = d * i8(w, o + 2 + j);
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < cols / 32; b++) {
                    long o = base + 18L * b;
                    float d = f16(w, o);
                    for (int j = 0; j < 16; j++) {
                        int q = u8(w, o + 2 + j);
                        dst[32 * b + j] = d * ((q & 0xF) - 8);
                        dst[32 * b + 16 + j] = d * ((q >> 4) - 8);
                    }
                }
            }
            case Q4_K -> {
                for (int b = 0; b < cols / 256; b++) {
                    long o = base + 144L * b;
                    float d = f16(w, o), dmin = f16(w, o + 2);
                    for (int i = 0; i < 256; i++) {
                        int chunk = i / 64, hi = (i / 32) & 1, l = i & 31, sub = 2 * chunk + hi;
                        int q = u8(w, o + 16 + 32L * chunk + l);
                        q = hi == 0 ? q & 0xF : q >> 4;
                        dst[256 * b + i] = d * q4kScale(w, o + 4, sub) * q - dmin * q4kMin(w, o + 4, sub);
                    }
                }
            }
            case Q6_K -> {
                for (int b = 0; b < cols / 256; b++) {
                    long o = base + 210L * b;
                    float d = f16(w, o + 208);
                    for (int i = 0; i < 256; i++) {
                        dst[256 * b + i] = d * i8(w, o + 192 + q6kScaleIndex(i)) * q6kValue(w, o, o + 128, i);
                    }
                }
            }
            default -> throw new IllegalArgumentException("no CUDA kernel reads " + type);
        }
    }

    static int q4kScale(MemorySegment s, long sc, int j) {
        return j < 4 ? u8(s, sc + j) & 63 : (u8(s, sc + j + 4) & 0xF) | ((u8(s, sc + j - 4) >> 6) << 4);
    }

    static int q4kMin(MemorySegment s, long sc, int j) {
        return j < 4 ? u8(s, sc + j + 4) & 63 : (u8(s, sc + j + 4) >> 4) | ((u8(s, sc + j) >> 6) << 4);
    }

    /** Index (0..15) of the int8 scale of Q6_K weight {@code i}: half * 8 + l / 16 + 2 * quarter. */
    static int q6kScaleIndex(int i) {
        int n = i / 128, j = i % 128, quarter = j / 32, l = j % 32;
        return n * 8 + l / 16 + 2 * quarter;
    }

    /** The signed 6-bit value of Q6_K weight {@code i}, with ql at {@code ql} and qh at {@code qh}. */
    static int q6kValue(MemorySegment s, long ql, long qh, int i) {
        int n = i / 128, j = i % 128, quarter = j / 32, l = j % 32;
        int lo = u8(s, ql + 64L * n + (quarter & 1) * 32 + l);
        int low4 = quarter < 2 ? lo & 0xF : lo >> 4;
        int high2 = (u8(s, qh + 32L * n + l) >> (2 * quarter)) & 3;
        return (low4 | (high2 << 4)) - 32;
    }

    /** {@code W[row][col]} read from the device layout, as {@code load_weight} in common.cuh. */
    public static float deviceWeight(GgmlType type, MemorySegment w, int rows, int cols, int row, int col) {
        long r = row;
        return switch (type) {
            case F32 -> w.get(F32, 4 * (r * cols + col));
            case F16 -> f16(w, 2 * (r * cols + col));
            case BF16 -> bf16(w, 2 * (r * cols + col));
            case Q8_0 -> f16(w, (long) rows * cols + 2 * (r * (cols / 32) + col / 32)) * i8(w, r * cols + col);
            case Q4_0 -> {
                long b = r * (cols / 32) + col / 32;
                int j = col & 31;
                int q = u8(w, b * 16 + (j & 15));
                q = j < 16 ? q & 0xF : q >> 4;
                yield f16(w, (long) rows * cols / 2 + 2 * b) * (q - 8);
            }
            case Q4_K -> {
                long o = (r * (cols / 256) + col / 256) * 144;
                int i = col & 255, chunk = i / 64, hi = (i / 32) & 1, l = i & 31, sub = 2 * chunk + hi;
                int q = u8(w, o + 16 + 32L * chunk + l);
                q = hi == 0 ? q & 0xF : q >> 4;
                yield f16(w, o) * q4kScale(w, o + 4, sub) * q - f16(w, o + 2) * q4kMin(w, o + 4, sub);
            }
            case Q6_K -> {
                long b = r * (cols / 256) + col / 256;
                long o = b * 208;
                int i = col & 255;
                float d = f16(w, (long) rows * (cols / 256) * 208 + 2 * b);
                yield d * i8(w, o + 192 + q6kScaleIndex(i)) * q6kValue(w, o, o + 128, i);
            }
            default -> throw new IllegalArgumentException("no CUDA kernel reads " + type);
        };
    }

    /** {@code y[r] = sum_c W[r][c] x[c]} with W in GGUF layout (double accumulation): the matvec kernels' math. */
    public static float[] matvec(GgmlType type, MemorySegment w, int rows, int cols, float[] x) {
        float[] y = new float[rows];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            ggmlRow(type, w, cols, r, row);
            double acc = 0;
            for (int c = 0; c < cols; c++) acc += (double) row[c] * x[c];
            y[r] = (float) acc;
        }
        return y;
    }

    /** {@code Y[t][r] = sum_c W[r][c] X[t][c]} (the tiled matmul's math). */
    public static float[] matmul(GgmlType type, MemorySegment w, int rows, int cols, float[] x, int nTokens) {
        float[] y = new float[nTokens * rows];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            ggmlRow(type, w, cols, r, row);
            for (int t = 0; t < nTokens; t++) {
                double acc = 0;
                for (int c = 0; c < cols; c++) acc += (double) row[c] * x[t * cols + c];
                y[t * rows + r] = (float) acc;
            }
        }
        return y;
    }

    /** The embedding gather: rows {@code ids} of the table, dequantized, {@code [ids.length][dim]}. */
    public static float[] embedding(GgmlType type, MemorySegment table, int dim, int[] ids) {
        float[] out = new float[ids.length * dim];
        float[] row = new float[dim];
        for (int t = 0; t < ids.length; t++) {
            ggmlRow(type, table, dim, ids[t], row);
            System.arraycopy(row, 0, out, t * dim, dim);
        }
        return out;
    }
}
