package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A batch of inputs gives the results of the same inputs one at a time (packed sequences must equal each sequence
 * alone, whatever the batch composition). The kernels do the same operations in the same order for every input,
 * but {@code reduceLanes(ADD)} leaves the order of its final lane additions open and the interpreter and the JIT
 * order them differently, so results may differ in the last bits until both paths are compiled: hence a tolerance
 * of a few roundings of the final sum rather than bit equality.
 */
class BatchConsistencyTest {
    /** A 16-lane reduction in another order: relative to sum |w * x|. */
    static final float SUMMATION_ORDER_TOLERANCE = 1e-6f;

    @Test
    void matmulEqualsMatvecPerInput() {
        GgmlType[] types = {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K};
        for (GgmlType type : types) {
            int rows = 37, cols = type.blockSize == 256 ? 768 : type.blockSize == 32 ? 96 * 3 : 293;
            MemorySegment data = type.blockSize == 1
                    ? FloatKernelsTest.randomFloats(type, rows * cols, 11)
                    : QuantKernelsTest.quantizedRandom(type, rows, cols, 11);
            WeightMatrix w = WeightMatrices.of(type, data, rows, cols);
            WeightMatrix ref = WeightMatrices.reference(type, data, rows, cols);
            int n = 7; // one group of four and three singles
            float[] x = FloatKernelsTest.randomVector(n * cols, 5);
            float[] batch = new float[n * rows];
            MatOps.matmul(w, x, n, batch);
            for (int i = 0; i < n; i++) {
                float[] single = new float[rows];
                MatOps.matvec(w, x, i * cols, single, 0);
                // the scale of the sum's rounding: sum |w * x| (x itself for float types; the 8-bit grid moves it < 1%)
                float[] scale = FloatKernelsTest.absDots(ref, x, i * cols);
                for (int r = 0; r < rows; r++) {
                    float d = Math.abs(single[r] - batch[i * rows + r]);
                    assertTrue(d <= SUMMATION_ORDER_TOLERANCE * scale[r] * 1.02f,
                            type + " input " + i + " row " + r + ": " + single[r] + " vs " + batch[i * rows + r]);
                }
            }
        }
    }
}
