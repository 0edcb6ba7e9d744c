package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * Scalar reference for the quantized types Q8_0, Q4_0, Q4_K and Q6_K: each block dequantized to F32
 * ({@link QuantBlocks}) and multiplied with the F32 input in order. This is the exact math of the stored weights;
 * the fast paths follow llama.cpp and quantize the input to 8 bits first ({@link #dotQuantized} is that arithmetic
 * done in scalar integers, the reference the vector kernels must match to float rounding).
 */
final class QuantMatrix extends SegmentMatrix {

    QuantMatrix(GgmlType type, MemorySegment data, int rows, int cols) {
        super(requireQuantType(type), data, rows, cols);
    }

    static GgmlType requireQuantType(GgmlType type) {
        return switch (type) {
            case Q8_0, Q4_0, Q4_K, Q6_K -> type;
            default -> throw new IllegalArgumentException("not a supported quantized type: " + type);
        };
    }

    @Override
    float dot(long rowOffset, Activations a, int i) {
        float[] block = new float[type.blockSize]; // [blockSize] dequantized weights
        float[] x = a.x;
        int xOff = a.offset + i * cols;
        float sum = 0f;
        for (int k = 0; k < cols / type.blockSize; k++) {
            QuantBlocks.dequantize(type, data, rowOffset + (long) k * type.blockBytes, block, 0);
            for (int j = 0; j < block.length; j++) sum += block[j] * x[xOff + k * type.blockSize + j];
        }
        return sum;
    }

    /** The llama.cpp arithmetic for row {@code r}: input {@code i} of {@code a} quantized to 8 bits, integer block sums. */
    float dotQuantized(int r, Activations a, int i) {
        checkRow(r);
        return QuantBlocks.dotQuantized(type, data, r * rowBytes, cols, a, i);
    }

    @Override
    public void row(int r, float[] dst, int dstOffset) {
        checkRow(r);
        for (int k = 0; k < cols / type.blockSize; k++) {
            QuantBlocks.dequantize(type, data, r * rowBytes + (long) k * type.blockBytes, dst, dstOffset + k * type.blockSize);
        }
    }
}
