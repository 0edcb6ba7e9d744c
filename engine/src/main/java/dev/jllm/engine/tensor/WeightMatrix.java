package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;

/**
 * A read-only weight matrix of {@code rows x cols} in some {@link GgmlType}, usually a view over a
 * memory-mapped file. Row {@code r} holds the weights that produce output {@code r} (GGUF/ggml layout:
 * {@code ne[0] = cols} is the contiguous dimension).
 *
 * <p>The forward pass only talks to this interface; each type has a scalar reference implementation and
 * may have a Vector API fast path, tested against each other.
 */
public interface WeightMatrix {
    int rows();

    int cols();

    GgmlType type();

    /**
     * {@code out[outOffset + r] = sum_c row(r)[c] * x[xOffset + c]} for {@code r} in {@code [rowStart, rowEnd)}.
     * Implementations must be safe to call concurrently for disjoint row ranges.
     */
    void matvec(float[] x, int xOffset, float[] out, int outOffset, int rowStart, int rowEnd);

    /** Dequantizes row {@code r} into {@code dst[dstOffset .. dstOffset + cols)} (embedding lookup). */
    void row(int r, float[] dst, int dstOffset);

    /**
     * The inputs of a product with this matrix in the form its kernel consumes ({@code n} vectors of
     * {@link #cols()} floats at {@code x[xOffset ..]}): quantized kernels quantize them to 8-bit blocks here, once
     * per product, so threads working on disjoint rows share them. Plain floats by default.
     */
    default Activations prepare(float[] x, int xOffset, int n) {
        return Activations.floats(x, xOffset, n, cols());
    }

    /**
     * {@code out[outOffset + i * rows + r] = row(r) . input(i)} for every input {@code i < a.n} and {@code r} in
     * {@code [rowStart, rowEnd)}; {@code a} comes from {@link #prepare}. Fast implementations read each weight row
     * once for all inputs (what makes prefill and batched decode cheaper than n matvecs). Safe to call
     * concurrently for disjoint row ranges.
     */
    default void matmul(Activations a, float[] out, int outOffset, int rowStart, int rowEnd) {
        for (int i = 0; i < a.n; i++) {
            matvec(a.x, a.offset + i * cols(), out, outOffset + i * rows(), rowStart, rowEnd);
        }
    }
}
