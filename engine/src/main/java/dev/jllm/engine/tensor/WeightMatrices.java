package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;

import java.lang.foreign.MemorySegment;

/** Factory of {@link WeightMatrix} views over raw tensor bytes in ggml layout (row-major, rows back to back). */
public final class WeightMatrices {
    private WeightMatrices() {
    }

    /**
     * The fastest implementation for {@code type} over {@code data} ({@code rows x cols}, {@code cols} contiguous).
     * The bytes are read in place; {@code data} must stay alive (e.g. its arena open) while the matrix is used.
     *
     * @throws IllegalArgumentException when the type is not supported or the sizes do not fit the type or the data
     */
    public static WeightMatrix of(GgmlType type, MemorySegment data, int rows, int cols) {
        if (FloatVectors.L < 8 && type.blockSize > 1) {
            return reference(type, data, rows, cols); // the quantized kernels need vectors of at least 8 floats
        }
        return switch (type) {
            case F32 -> new F32VectorMatrix(data, rows, cols);
            case F16 -> new F16VectorMatrix(data, rows, cols);
            case BF16 -> new BF16VectorMatrix(data, rows, cols);
            case Q8_0 -> new Q8_0VectorMatrix(data, rows, cols);
            case Q4_0 -> new Q4_0VectorMatrix(data, rows, cols);
            case Q4_K -> new Q4_KVectorMatrix(data, rows, cols);
            case Q6_K -> new Q6_KVectorMatrix(data, rows, cols);
            default -> reference(type, data, rows, cols);
        };
    }

    /** The plain scalar implementation (dequantize each weight, multiply-add in order): the reference of every fast path. */
    public static WeightMatrix reference(GgmlType type, MemorySegment data, int rows, int cols) {
        return switch (type) {
            case F32, F16, BF16 -> new FloatMatrix(type, data, rows, cols);
            case Q8_0, Q4_0, Q4_K, Q6_K -> new QuantMatrix(type, data, rows, cols);
            default -> throw new IllegalArgumentException("weight type " + type + " is not supported (supported: "
                    + "F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)");
        };
    }
}
