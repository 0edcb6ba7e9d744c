package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Float weights to the bytes of a ggml type (for writing GGUF files and making test or benchmark weights). The
 * quantizers round to nearest per block (ggml's reference quantizers for Q8_0/Q4_0; a plain min/max and absmax
 * search for Q4_K/Q6_K, which yields valid blocks of the same layout but not llama.cpp's importance-optimized ones).
 */
public final class Quantize {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Quantize() {
    }

    /** Writes {@code n} values {@code src[off ..]} as {@code type} at {@code dst[dstOffset ..]} ({@code type.bytesFor(n)} bytes). */
    public static void row(GgmlType type, float[] src, int off, int n, MemorySegment dst, long dstOffset) {
        long bytes = type.bytesFor(n);
        if (dstOffset < 0 || dstOffset + bytes > dst.byteSize()) {
            throw new IllegalArgumentException(n + " " + type + " values need " + bytes + " bytes at " + dstOffset
                    + ", the destination holds " + dst.byteSize());
        }
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) dst.set(F32_LE, dstOffset + 4L * i, src[off + i]);
            }
            case F16 -> {
                for (int i = 0; i < n; i++) dst.set(I16_LE, dstOffset + 2L * i, Float.floatToFloat16(src[off + i]));
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) dst.set(I16_LE, dstOffset + 2L * i, toBf16(src[off + i]));
            }
            case Q8_0, Q4_0, Q4_K, Q6_K -> {
                for (int k = 0; k < n / type.blockSize; k++) {
                    QuantBlocks.quantize(type, src, off + k * type.blockSize, dst, dstOffset + (long) k * type.blockBytes);
                }
            }
            default -> throw new IllegalArgumentException("cannot write weight type " + type
                    + " (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)");
        }
    }

    /** F32 to BF16 with round-to-nearest-even (NaN kept quiet). */
    public static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) return (short) ((bits >>> 16) | 0x40);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}
