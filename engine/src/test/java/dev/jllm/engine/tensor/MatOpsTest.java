package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MatOpsTest {
    @Test
    void parallelForCoversEveryIndexOnceForManySizes() {
        int before = MatOps.threads();
        try {
            for (int threads : new int[]{1, 2, 3}) {
                MatOps.setThreads(threads);
                for (int n : new int[]{0, 1, 7, 64, 1000, 4099}) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(n, 1));
                    MatOps.parallelFor(n, 1, (start, end) -> {
                        for (int i = start; i < end; i++) hits.incrementAndGet(i);
                    });
                    for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), threads + " threads, n=" + n + ", index " + i);
                }
            }
        } finally {
            MatOps.setThreads(before);
        }
    }

    @Test
    void failuresReachTheCallerAndNestedCallsRunInline() {
        int before = MatOps.threads();
        try {
            MatOps.setThreads(2);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> MatOps.parallelFor(100, 1, (s, t) -> {
                if (s > 0) throw new IllegalStateException("boom at " + s);
            }));
            assertEquals(true, e.getMessage().startsWith("boom at "));
            AtomicIntegerArray hits = new AtomicIntegerArray(100 * 10);
            MatOps.parallelFor(100, 1, (s, t) -> {
                for (int i = s; i < t; i++) {
                    int row = i;
                    MatOps.parallelFor(10, 1, (a, b) -> {
                        for (int j = a; j < b; j++) hits.incrementAndGet(row * 10 + j);
                    });
                }
            });
            for (int i = 0; i < 1000; i++) assertEquals(1, hits.get(i), "nested index " + i);
            assertThrows(IllegalArgumentException.class, () -> MatOps.setThreads(0));
        } finally {
            MatOps.setThreads(before);
        }
    }

    /**
     * Several matrices over the same input in one pass (wq/wk/wv, w1/w3) equal one product per matrix: same kernels,
     * same prepared inputs, only the row ranges the threads take differ, so one input (a row's own dot) is exact, and
     * batches differ by F32 summation order only where a range's last rows miss a 4-row tile. Mixed types (a Q4_K_M
     * layer's Q4_K and Q6_K), odd row counts and batch sizes across chunk boundaries.
     */
    /**
     * Batched rows summed as a 4-row tile or alone, or a lane reduction ordered differently by the interpreter and the
     * JIT (see {@link BatchConsistencyTest}): F32 summation order only, relative to sum |w * x| (the scale of the
     * rounding; relative to the result itself it is unbounded where the terms cancel: measured up to 1.1e-5 of
     * max(1, |result|) with 4 or 8 lanes, but below 1e-7 of sum |w * x| with 4, 8 and 16 lanes).
     */
    static final float TILE_ORDER_TOLERANCE = 1e-6f;

    @Test
    void fusedProductsEqualSeparateProducts() {
        int before = MatOps.threads();
        try {
            for (int threads : new int[]{1, 2, 3}) {
                MatOps.setThreads(threads);
                int cols = 512;
                GgmlType[][] mixes = {{GgmlType.Q8_0, GgmlType.Q8_0, GgmlType.Q8_0}, {GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.Q4_K},
                        {GgmlType.F16, GgmlType.Q4_0}};
                int[] rowCounts = {97, 13, 131};
                for (GgmlType[] types : mixes) {
                    WeightMatrix[] ws = new WeightMatrix[types.length];
                    WeightMatrix[] refs = new WeightMatrix[types.length]; // for the scale of the rounding only
                    for (int j = 0; j < ws.length; j++) {
                        MemorySegment data = weights(types[j], rowCounts[j], cols, 31L * j + threads);
                        ws[j] = WeightMatrices.of(types[j], data, rowCounts[j], cols);
                        refs[j] = WeightMatrices.reference(types[j], data, rowCounts[j], cols);
                    }
                    for (int n : new int[]{1, 3, 8, 13}) {
                        float[] x = FloatKernelsTest.randomVector(n * cols, cols + n);
                        float[][] fused = new float[ws.length][];
                        for (int j = 0; j < ws.length; j++) fused[j] = new float[n * ws[j].rows()];
                        MatOps.matmul(ws, x, n, fused);
                        for (int j = 0; j < ws.length; j++) {
                            float[] alone = new float[n * ws[j].rows()];
                            MatOps.matmul(ws[j], x, n, alone);
                            for (int i = 0; i < n; i++) {
                                float[] scale = FloatKernelsTest.absDots(refs[j], x, i * cols); // [rows] sum |w * x|
                                for (int r = 0; r < ws[j].rows(); r++) {
                                    int e = i * ws[j].rows() + r;
                                    assertEquals(alone[e], fused[j][e], TILE_ORDER_TOLERANCE * scale[r], java.util.Arrays.toString(types)
                                            + " matrix " + j + ", n=" + n + ", " + threads + " threads, input " + i + ", row " + r);
                                }
                            }
                        }
                    }
                }
            }
        } finally {
            MatOps.setThreads(before);
        }
    }

    /** Random weights of any type (quantized row by row). */
    static MemorySegment weights(GgmlType type, int rows, int cols, long seed) {
        long rowBytes = type.bytesFor(cols);
        MemorySegment s = java.lang.foreign.Arena.ofAuto().allocate(rowBytes * rows);
        for (int r = 0; r < rows; r++) Quantize.row(type, FloatKernelsTest.randomVector(cols, seed * 1000 + r), 0, cols, s, r * rowBytes);
        return s;
    }

    @Test
    void fusedProductsRejectMismatchedShapes() {
        WeightMatrix a = WeightMatrices.of(GgmlType.Q8_0, QuantKernelsTest.quantizedRandom(GgmlType.Q8_0, 4, 64, 1), 4, 64);
        WeightMatrix b = WeightMatrices.of(GgmlType.Q8_0, QuantKernelsTest.quantizedRandom(GgmlType.Q8_0, 4, 96, 2), 4, 96);
        float[] x = new float[96];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MatOps.matmul(new WeightMatrix[]{a, b}, x, 1, new float[][]{new float[4], new float[4]}));
        assertEquals(true, e.getMessage().contains("96 columns"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> MatOps.matmul(new WeightMatrix[]{a, a}, x, 1, new float[][]{new float[4], new float[3]}));
        assertEquals(true, e.getMessage().contains("output 1"), e.getMessage());
    }
}
