package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * Base of the Vector API matrices. One input (a decode step) takes the type's fused dequantize+dot kernel
 * ({@link #dot}), which reads each weight once from memory and is bound by memory bandwidth. Several inputs
 * (prefill, batched decode) take the tiled path: a tile of rows is decoded to F32 once ({@link #decodeRow}, the only
 * per-type code), then {@link FloatTiles} multiplies it into all inputs, four rows by four inputs at a time; this is
 * bound by multiply-adds, so a batch of {@code n} costs far less than {@code n} single products.
 *
 * <p>Quantized types multiply the decoded weights into their 8-bit activations times the block scales
 * ({@link Activations#tileInputs}): the same quantities as llama.cpp's integer block sums times scales, with F32
 * rounding of each product instead of one rounding per block.
 */
abstract class TiledMatrix extends SegmentMatrix {
    /** Inputs from which a product takes the tiled path. */
    static final int TILED_MIN_INPUTS = 2;
    /** F32 weights decoded per row tile: 128 KB, so a tile and four inputs stay in a 1 MB L2 while the tile is reused. */
    private static final int TILE_FLOATS = 32 << 10;
    /** Inputs ([n][cols] floats) that stay in L2 next to the tile: 256 KB. */
    private static final int SMALL_INPUT_FLOATS = 64 << 10;
    /** Per-thread tile buffer, grown on demand ([tileRows][cols] decoded weights). */
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[0]);

    TiledMatrix(GgmlType type, MemorySegment data, int rows, int cols) {
        super(type, data, rows, cols);
    }

    /** Writes the F32 weights of the row at byte offset {@code rowOffset} to {@code dst[dstOffset .. dstOffset + cols)}. */
    abstract void decodeRow(long rowOffset, float[] dst, int dstOffset);

    @Override
    public void matmul(Activations a, float[] out, int outOffset, int rowStart, int rowEnd) {
        checkRows(rowStart, rowEnd);
        if (a.n >= TILED_MIN_INPUTS) {
            matmulTiled(a, out, outOffset, rowStart, rowEnd);
        } else {
            for (int r = rowStart; r < rowEnd; r++) out[outOffset + r] = dot(r * rowBytes, a, 0);
        }
    }

    private void matmulTiled(Activations a, float[] out, int outOffset, int rowStart, int rowEnd) {
        float[] x = a.tileInputs();  // [n][cols]
        int x0 = a.tileInputsOffset();
        int n = a.n;
        // inputs that fit in L2 (batched decode): tiles of four rows, so decoding (which waits on memory) and
        // multiplying alternate finely and the prefetchers keep streaming; else (prefill) large tiles, reused by
        // every group of four inputs
        int tileRows = (long) n * cols <= SMALL_INPUT_FLOATS ? 4 : Math.max(4, (TILE_FLOATS / cols) & ~3);
        float[] w = tileBuffer(tileRows * cols); // [tileRows][cols]
        for (int t0 = rowStart; t0 < rowEnd; t0 += tileRows) {
            int t1 = Math.min(rowEnd, t0 + tileRows);
            for (int r = t0; r < t1; r++) decodeRow(r * rowBytes, w, (r - t0) * cols);
            multiplyTile(w, t0, t1, x, x0, n, out, outOffset);
        }
    }

    /** Decoded rows {@code [t0, t1)} (in {@code w} from 0) . all inputs: four rows by four inputs, then what is left. */
    private void multiplyTile(float[] w, int t0, int t1, float[] x, int x0, int n, float[] out, int outOffset) {
        int quadsEnd = t0 + ((t1 - t0) & ~3);
        int i = 0;
        // four inputs at a time stay in L1/L2 while the decoded rows pass over them
        for (; i + 4 <= n; i += 4) {
            for (int r = t0; r < quadsEnd; r += 4) {
                FloatTiles.dot4x4(w, (r - t0) * cols, x, x0 + i * cols, cols, out, outOffset + i * rows + r, rows);
            }
        }
        for (; i < n; i++) {
            for (int r = t0; r + 2 <= quadsEnd; r += 2) {
                FloatTiles.dot2x1(w, (r - t0) * cols, x, x0 + i * cols, cols, out, outOffset + i * rows + r);
            }
        }
        for (int r = quadsEnd; r < t1; r++) { // the last rows of a tile whose length is not a multiple of four
            for (i = 0; i < n; i++) out[outOffset + i * rows + r] = FloatTiles.dot(w, (r - t0) * cols, x, x0 + i * cols, cols);
        }
    }

    private static float[] tileBuffer(int floats) {
        float[] w = TILE.get();
        if (w.length < floats) {
            w = new float[floats];
            TILE.set(w);
        }
        return w;
    }

    @Override
    public final void row(int r, float[] dst, int dstOffset) {
        checkRow(r);
        decodeRow(r * rowBytes, dst, dstOffset);
    }
}
