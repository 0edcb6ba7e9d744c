package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * Common frame of the Vector API quantized kernels: inputs quantized once per product to the 8-bit blocks the type
 * pairs with (Q8_0 or Q8_K, {@link QuantBlocks#quantizeActivations}), then per row a fused dequantize+dot over one
 * input ({@link #dot}) or four at a time ({@link #dot4}, decoding each weight once for all four). Each subclass
 * holds its own hot loops so the JIT compiles one tight loop per type.
 *
 * <p>The products of 8-bit weights and 8-bit activations are summed per block in F32 lanes; these sums are
 * integers below 2^24 and therefore exact, so each block's sum equals llama.cpp's integer dot product before
 * the block scales are applied.
 */
abstract class VectorQuantMatrix extends SegmentMatrix {
    /** Weight bytes per row tile of a batched product (well inside a 1 MB L2). */
    private static final long TILE_BYTES = 256 << 10;

    VectorQuantMatrix(GgmlType type, MemorySegment data, int rows, int cols) {
        super(type, data, rows, cols);
    }

    @Override
    public final Activations prepare(float[] x, int xOffset, int n) {
        return QuantBlocks.quantizeActivations(type, x, xOffset, n, cols);
    }

    /** Dot products of one row with inputs i..i+3, written to out[outIndex + k * rows]. */
    abstract void dot4(long rowOffset, Activations a, int i, float[] out, int outIndex);

    /**
     * Dot products of rows at {@code rowOffset0} and {@code rowOffset1} (rows r and r + 1) with inputs i..i+3: 2 x 4
     * results, out[outIndex + k * rows] for row r and out[outIndex + 1 + k * rows] for row r + 1. Kernels that
     * override it load each activation vector once for both rows (batches are then bound by multiply-adds rather
     * than loads). Default: two {@link #dot4}.
     */
    void dot2x4(long rowOffset0, long rowOffset1, Activations a, int i, float[] out, int outIndex) {
        dot4(rowOffset0, a, i, out, outIndex);
        dot4(rowOffset1, a, i, out, outIndex + 1);
    }

    @Override
    public final void matmul(Activations a, float[] out, int outOffset, int rowStart, int rowEnd) {
        checkRows(rowStart, rowEnd);
        if (a.q == null || a.blockSize != (type.blockSize == 256 ? 256 : 32)) {
            a = prepare(a.x, a.offset, a.n); // inputs prepared for another matrix type
        }
        int r = rowStart;
        if (a.n >= 4) {
            // rows in tiles that stay in L2 while each group of four inputs (in L1) passes over them
            int tile = (int) Math.max(2, (TILE_BYTES / rowBytes) & ~1L);
            int pairsEnd = rowStart + ((rowEnd - rowStart) & ~1);
            for (int t0 = rowStart; t0 < pairsEnd; t0 += tile) {
                int t1 = Math.min(pairsEnd, t0 + tile);
                int i = 0;
                for (; i + 4 <= a.n; i += 4) {
                    for (int rr = t0; rr < t1; rr += 2) {
                        long rowOffset = rr * rowBytes;
                        dot2x4(rowOffset, rowOffset + rowBytes, a, i, out, outOffset + i * rows + rr);
                    }
                }
                for (; i < a.n; i++) {
                    for (int rr = t0; rr < t1; rr++) out[outOffset + i * rows + rr] = dot(rr * rowBytes, a, i);
                }
            }
            r = pairsEnd;
        }
        for (; r < rowEnd; r++) {
            long rowOffset = r * rowBytes;
            int i = 0;
            for (; i + 4 <= a.n; i += 4) dot4(rowOffset, a, i, out, outOffset + i * rows + r);
            for (; i < a.n; i++) out[outOffset + i * rows + r] = dot(rowOffset, a, i);
        }
    }

    @Override
    public final void row(int r, float[] dst, int dstOffset) {
        checkRow(r);
        for (int k = 0; k < cols / type.blockSize; k++) {
            QuantBlocks.dequantize(type, data, r * rowBytes + (long) k * type.blockBytes, dst, dstOffset + k * type.blockSize);
        }
    }
}
