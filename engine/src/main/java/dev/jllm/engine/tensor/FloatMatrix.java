package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * Scalar reference for the unquantized types F32, F16 and BF16: {@code out[r] = sum_c w[r][c] * x[c]}, each weight
 * widened to F32 and multiplied in order, no vectorization.
 */
final class FloatMatrix extends SegmentMatrix {

    FloatMatrix(GgmlType type, MemorySegment data, int rows, int cols) {
        super(requireFloatType(type), data, rows, cols);
    }

    static GgmlType requireFloatType(GgmlType type) {
        if (type != GgmlType.F32 && type != GgmlType.F16 && type != GgmlType.BF16) {
            throw new IllegalArgumentException("not an unquantized float type: " + type);
        }
        return type;
    }

    /** Weight {@code c} of the row at byte offset {@code rowOffset}. */
    float weight(long rowOffset, int c) {
        return switch (type) {
            case F32 -> data.get(F32_LE, rowOffset + 4L * c);
            case F16 -> Float.float16ToFloat(data.get(I16_LE, rowOffset + 2L * c));
            case BF16 -> bf16ToFloat(data.get(I16_LE, rowOffset + 2L * c));
            default -> throw new AssertionError(type);
        };
    }

    static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    @Override
    float dot(long rowOffset, Activations a, int i) {
        float[] x = a.x;
        int xOff = a.offset + i * cols;
        float sum = 0f;
        for (int c = 0; c < cols; c++) {
            sum += weight(rowOffset, c) * x[xOff + c];
        }
        return sum;
    }

    @Override
    public void row(int r, float[] dst, int dstOffset) {
        checkRow(r);
        long rowOffset = r * rowBytes;
        for (int c = 0; c < cols; c++) dst[dstOffset + c] = weight(rowOffset, c);
    }
}
