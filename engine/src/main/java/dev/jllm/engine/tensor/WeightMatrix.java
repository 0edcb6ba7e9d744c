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
}
