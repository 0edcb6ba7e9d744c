package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A batch of inputs gives bit-identical results to the same inputs one at a time (packed sequences must equal
 * each sequence alone, whatever the batch composition).
 */
class BatchConsistencyTest {
    @Test
    void matmulEqualsMatvecPerInputBitForBit() {
        GgmlType[] types = {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K};
        for (GgmlType type : types) {
            int rows = 37, cols = type.blockSize == 256 ? 768 : type.blockSize == 32 ? 96 * 3 : 293;
            MemorySegment data = type.blockSize == 1
                    ? FloatKernelsTest.randomFloats(type, rows * cols, 11)
                    : QuantKernelsTest.quantizedRandom(type, rows, cols, 11);
            WeightMatrix w = WeightMatrices.of(type, data, rows, cols);
            int n = 7; // one group of four and three singles
            float[] x = FloatKernelsTest.randomVector(n * cols, 5);
            float[] batch = new float[n * rows];
            MatOps.matmul(w, x, n, batch);
            for (int i = 0; i < n; i++) {
                float[] single = new float[rows];
                MatOps.matvec(w, x, i * cols, single, 0);
                for (int r = 0; r < rows; r++) {
                    assertEquals(Float.floatToIntBits(single[r]), Float.floatToIntBits(batch[i * rows + r]),
                            type + " input " + i + " row " + r + ": " + single[r] + " vs " + batch[i * rows + r]);
                }
            }
        }
    }
}
