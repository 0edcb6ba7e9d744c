package dev.jllm.cuda.kernels;

import dev.jllm.gguf.GgmlType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Converts a weight matrix from its GGUF (ggml) bytes to the layout the kernels read (see
 * {@code src/main/cuda/common.cuh}). Types whose blocks are not 16-byte multiples are split into a
 * quant region and a scale region so every row and block starts 16-byte aligned for 128-bit loads:
 * <pre>
 *   F32, F16, BF16, Q4_K : unchanged
 *   Q8_0 : qs [rows][cols] int8                then d [rows][cols/32] f16
 *   Q4_0 : qs [rows][cols/32][16] nibbles      then d [rows][cols/32] f16
 *   Q6_K : (ql, qh, scales) [rows][cols/256][208] then d [rows][cols/256] f16
 * </pre>
 * The byte count is the same as the GGUF tensor's.
 */
public final class DeviceLayout {
    private DeviceLayout() {
    }

    /** Types the kernels read. */
    public static boolean supported(GgmlType t) {
        return switch (t) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K -> true;
            default -> false;
        };
    }

    /** Checks that a {@code rows x cols} matrix of {@code type} can be used by the kernels, naming it otherwise. */
    public static void check(String tensor, GgmlType type, long rows, long cols) {
        if (!supported(type)) throw new IllegalArgumentException(tensor + ": type " + type + " has no CUDA kernel");
        if (cols % type.blockSize != 0) {
            throw new IllegalArgumentException(tensor + ": " + cols + " columns is not a multiple of " + type + "'s block of " + type.blockSize);
        }
        if (rows < 1 || cols < 1 || rows > Integer.MAX_VALUE || cols > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(tensor + ": shape " + rows + " x " + cols + " out of range");
        }
    }

    /** Bytes of the matrix (same in both layouts). */
    public static long bytes(GgmlType type, long rows, long cols) {
        return rows * type.bytesFor(cols);
    }

    /**
     * Distance between two experts' matrices stacked in one buffer: {@link #bytes} rounded up to 256, so every
     * expert starts as aligned as a fresh allocation (the kernels load 16-byte vectors; a Q4_0 or Q8_0 matrix
     * is generally not a multiple of 16 bytes long).
     */
    public static long expertStride(GgmlType type, long rows, long cols) {
        return (bytes(type, rows, cols) + 255) & ~255L;
    }

    /** Writes the device layout of {@code src} (GGUF bytes of a {@code rows x cols} matrix) into {@code dst}. */
    public static void repack(GgmlType type, long rows, long cols, MemorySegment src, MemorySegment dst) {
        long n = bytes(type, rows, cols);
        if (src.byteSize() < n || dst.byteSize() < n) {
            throw new IllegalArgumentException(type + " " + rows + "x" + cols + " needs " + n + " bytes, got src "
                    + src.byteSize() + ", dst " + dst.byteSize());
        }
        switch (type) {
            case F32, F16, BF16, Q4_K -> MemorySegment.copy(src, 0, dst, 0, n);
            case Q8_0 -> splitScales(src, dst, rows * cols / 32, 34, 2, 0, 32);
            case Q4_0 -> splitScales(src, dst, rows * cols / 32, 18, 2, 0, 16);
            case Q6_K -> splitScales(src, dst, rows * cols / 256, 210, 2, 208, 208);
            default -> throw new IllegalArgumentException("no device layout for " + type);
        }
    }

    /**
     * Splits {@code blocks} blocks of {@code blockBytes} into quant bytes ({@code quantBytes} per block,
     * everything but the {@code scaleBytes} at {@code scaleAt}) followed by all the scales.
     */
    private static void splitScales(MemorySegment src, MemorySegment dst, long blocks, int blockBytes, int scaleBytes,
                                    int scaleAt, int quantBytes) {
        long scalesStart = blocks * quantBytes;
        for (long b = 0; b < blocks; b++) {
            long s = b * blockBytes;
            long quantFrom = scaleAt == 0 ? s + scaleBytes : s;
            MemorySegment.copy(src, quantFrom, dst, b * quantBytes, quantBytes);
            dst.set(ValueLayout.JAVA_SHORT_UNALIGNED, scalesStart + b * scaleBytes,
                    src.get(ValueLayout.JAVA_SHORT_UNALIGNED, s + scaleAt));
        }
    }
}
