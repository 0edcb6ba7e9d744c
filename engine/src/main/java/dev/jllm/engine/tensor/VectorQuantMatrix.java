package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * Common frame of the Vector API quantized kernels: inputs quantized once per product to the 8-bit blocks the type
 * pairs with (Q8_0 or Q8_K, {@link QuantBlocks#quantizeActivations}); one input takes the fused dequantize+dot
 * ({@link #dot}), several the {@link TiledMatrix} path over rows decoded with {@link #decodeRow}. Each subclass holds
 * its own hot loops so the JIT compiles one tight loop per type.
 *
 * <p>In {@link #dot} the products of 8-bit weights and 8-bit activations are summed per block in F32 lanes; these
 * sums are integers below 2^24 and therefore exact, so each block's sum equals llama.cpp's integer dot product before
 * the block scales are applied.
 */
abstract class VectorQuantMatrix extends TiledMatrix {

    VectorQuantMatrix(GgmlType type, MemorySegment data, int rows, int cols) {
        super(type, data, rows, cols);
    }

    @Override
    public final Activations prepare(float[] x, int xOffset, int n) {
        return QuantBlocks.quantizeActivations(type, x, xOffset, n, cols);
    }

    @Override
    public final void matmul(Activations a, float[] out, int outOffset, int rowStart, int rowEnd) {
        if (a.q == null || a.blockSize != (type.blockSize == 256 ? 256 : 32)) {
            a = prepare(a.x, a.offset, a.n); // inputs prepared for another matrix type
        }
        super.matmul(a, out, outOffset, rowStart, rowEnd);
    }
}
