package dev.jllm.cuda.ref;

import dev.jllm.engine.tensor.Quantize;
import dev.jllm.gguf.GgmlType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/** Random test inputs; quantized weights are written by the engine's own quantizers. */
public final class TestData {
    private TestData() {
    }

    public static float[] floats(SplittableRandom rnd, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        return x;
    }

    /** A {@code rows x cols} matrix of {@code type} in GGUF layout, from uniform weights in [-1, 1). */
    public static MemorySegment weights(GgmlType type, int rows, int cols, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        MemorySegment w = Arena.ofAuto().allocate(rows * type.bytesFor(cols), 16);
        for (int r = 0; r < rows; r++) {
            Quantize.row(type, floats(rnd, cols, 1.0), 0, cols, w, r * type.bytesFor(cols));
        }
        return w;
    }

    /** Columns for a type at an awkward size: a prime for F32/F16/BF16, an odd number of blocks otherwise. */
    public static int awkwardCols(GgmlType type) {
        return switch (type.blockSize) {
            case 1 -> 251;
            case 32 -> 32 * 7;
            default -> 256 * 3;
        };
    }

    public static final GgmlType[] KERNEL_TYPES = {
            GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K};
}
