package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FloatKernelsTest {
    /** Vector and scalar sums differ only in summation order: relative to sum |w * x|. */
    static final float REORDER_TOLERANCE = 2e-6f;

    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Random weights of the given float type, returned as the raw segment. */
    static MemorySegment randomFloats(GgmlType type, int count, long seed) {
        Random rnd = new Random(seed);
        MemorySegment s = Arena.ofAuto().allocate((long) count * (type == GgmlType.F32 ? 4 : 2));
        for (int i = 0; i < count; i++) {
            float v = (float) rnd.nextGaussian();
            switch (type) {
                case F32 -> s.setAtIndex(F32, i, v);
                case F16 -> s.setAtIndex(I16, i, Float.floatToFloat16(v));
                case BF16 -> s.setAtIndex(I16, i, (short) (Float.floatToRawIntBits(v) >>> 16));
                default -> throw new AssertionError();
            }
        }
        return s;
    }

    static float[] randomVector(int n, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }

    /** sum_c |W[r][c] * x[c]| per row, from the reference's dequantized rows: the scale of rounding errors. */
    static float[] absDots(WeightMatrix ref, float[] x, int xOff) {
        float[] row = new float[ref.cols()];
        float[] out = new float[ref.rows()];
        for (int r = 0; r < ref.rows(); r++) {
            ref.row(r, row, 0);
            double s = 0;
            for (int c = 0; c < row.length; c++) s += Math.abs(row[c] * x[xOff + c]);
            out[r] = (float) s;
        }
        return out;
    }

    static void assertClose(float[] expected, float[] actual, float[] scale, float relTol, String what) {
        for (int i = 0; i < expected.length; i++) {
            float tol = relTol * Math.max(scale[i % scale.length], 1e-6f);
            assertTrue(Math.abs(expected[i] - actual[i]) <= tol,
                    what + ": at " + i + " expected " + expected[i] + " got " + actual[i] + " (tolerance " + tol + ")");
        }
    }

    @Test
    void fastEqualsReferenceAtAwkwardSizes() {
        int[][] shapes = {{1, 1}, {1, 37}, {7, 1}, {13, 31}, {97, 67}, {131, 257}, {3, 1031}, {257, 96}};
        for (GgmlType type : new GgmlType[]{GgmlType.F32, GgmlType.F16, GgmlType.BF16}) {
            for (int[] shape : shapes) {
                int rows = shape[0], cols = shape[1];
                MemorySegment data = randomFloats(type, rows * cols, rows * 31L + cols);
                WeightMatrix fast = WeightMatrices.of(type, data, rows, cols);
                WeightMatrix ref = WeightMatrices.reference(type, data, rows, cols);
                for (int n : new int[]{1, 3, 7, 8, 13}) {
                    float[] x = randomVector(n * cols + 5, cols);
                    float[] want = new float[n * rows];
                    float[] got = new float[n * rows];
                    ref.matmul(ref.prepare(x, 5, n), want, 0, 0, rows);
                    MatOps.matmul(fast, x, 5, n, got, 0);
                    for (int i = 0; i < n; i++) {
                        float[] scale = absDots(ref, x, 5 + i * cols);
                        float[] w = java.util.Arrays.copyOfRange(want, i * rows, (i + 1) * rows);
                        float[] g = java.util.Arrays.copyOfRange(got, i * rows, (i + 1) * rows);
                        assertClose(w, g, scale, REORDER_TOLERANCE, type + " " + rows + "x" + cols + " n=" + n + " input " + i);
                    }
                }
                float[] rowFast = new float[cols], rowRef = new float[cols];
                for (int r = 0; r < rows; r += Math.max(1, rows / 5)) {
                    fast.row(r, rowFast, 0);
                    ref.row(r, rowRef, 0);
                    assertEquals(java.util.Arrays.toString(rowRef), java.util.Arrays.toString(rowFast), type + " row " + r);
                }
            }
        }
    }

    /** Prefill-sized batches ([n][cols] beyond L2) take the tiled path's large row tiles: 37 rows = two tiles of 16 and one of 5. */
    @Test
    void largeBatchesOverSeveralRowTilesEqualReference() {
        int rows = 37, cols = 2051, n = 33;
        for (GgmlType type : new GgmlType[]{GgmlType.F32, GgmlType.F16, GgmlType.BF16}) {
            MemorySegment data = randomFloats(type, rows * cols, 3);
            WeightMatrix fast = WeightMatrices.of(type, data, rows, cols);
            WeightMatrix ref = WeightMatrices.reference(type, data, rows, cols);
            float[] x = randomVector(n * cols, 9);
            float[] want = new float[n * rows], got = new float[n * rows];
            ref.matmul(ref.prepare(x, 0, n), want, 0, 0, rows);
            MatOps.matmul(fast, x, n, got);
            for (int i = 0; i < n; i++) {
                assertClose(java.util.Arrays.copyOfRange(want, i * rows, (i + 1) * rows),
                        java.util.Arrays.copyOfRange(got, i * rows, (i + 1) * rows), absDots(ref, x, i * cols),
                        REORDER_TOLERANCE, type + " n=" + n + " input " + i);
            }
        }
    }

    @Test
    void matvecSplitsRowsAcrossThreadsWithTheSameResult() {
        int rows = 1031, cols = 259;
        MemorySegment data = randomFloats(GgmlType.F16, rows * cols, 7);
        WeightMatrix fast = WeightMatrices.of(GgmlType.F16, data, rows, cols);
        float[] x = randomVector(cols + 3, 8);
        float[] single = new float[rows + 2];
        fast.matvec(x, 3, single, 2, 0, rows);
        int before = MatOps.threads();
        try {
            for (int threads : new int[]{1, 2, 3, 5}) {
                MatOps.setThreads(threads);
                float[] out = new float[rows + 2];
                MatOps.matvec(fast, x, 3, out, 2);
                // each row is computed by the same code whatever the split, but a row computed before the JIT
                // compiled the kernel sums its lanes in another order: last-bit differences only
                float maxAbs = 0;
                for (float v : single) maxAbs = Math.max(maxAbs, Math.abs(v));
                assertClose(single, out, new float[] {maxAbs}, REORDER_TOLERANCE, threads + " threads");
            }
        } finally {
            MatOps.setThreads(before);
        }
    }

    @Test
    void f16WideningMatchesTheJdkForEveryBitPattern() {
        MemorySegment all = Arena.ofAuto().allocate(65536 * 2);
        for (int h = 0; h < 65536; h++) all.setAtIndex(I16, h, (short) h);
        WeightMatrix fast = WeightMatrices.of(GgmlType.F16, all, 1, 65536);
        float[] row = new float[65536];
        fast.row(0, row, 0);
        for (int h = 0; h < 65536; h++) {
            float want = Float.float16ToFloat((short) h);
            assertEquals(Float.floatToRawIntBits(want) & (Float.isNaN(want) ? 0xFF800000 : -1),
                    Float.floatToRawIntBits(row[h]) & (Float.isNaN(want) ? 0xFF800000 : -1), "half bits 0x" + Integer.toHexString(h));
        }
    }

    @Test
    void handComputedValues() {
        // F16: 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800, 65504 = 0x7BFF, smallest subnormal 2^-24 = 0x0001
        MemorySegment f16 = Arena.ofAuto().allocate(10);
        short[] bits = {0x3C00, (short) 0xC000, 0x3800, 0x7BFF, 0x0001};
        for (int i = 0; i < 5; i++) f16.setAtIndex(I16, i, bits[i]);
        float[] want = {1f, -2f, 0.5f, 65504f, 0x1p-24f};
        // BF16: 1.0 = 0x3F80, -3.0 = 0xC040, 0.15625 = 0x3E20
        MemorySegment bf16 = Arena.ofAuto().allocate(6);
        short[] bbits = {0x3F80, (short) 0xC040, 0x3E20};
        for (int i = 0; i < 3; i++) bf16.setAtIndex(I16, i, bbits[i]);
        float[] bwant = {1f, -3f, 0.15625f};
        for (boolean fastPath : new boolean[]{true, false}) {
            WeightMatrix h = fastPath ? WeightMatrices.of(GgmlType.F16, f16, 1, 5) : WeightMatrices.reference(GgmlType.F16, f16, 1, 5);
            float[] row = new float[5];
            h.row(0, row, 0);
            for (int i = 0; i < 5; i++) assertEquals(want[i], row[i], "F16 value " + i);
            WeightMatrix b = fastPath ? WeightMatrices.of(GgmlType.BF16, bf16, 1, 3) : WeightMatrices.reference(GgmlType.BF16, bf16, 1, 3);
            float[] brow = new float[3];
            b.row(0, brow, 0);
            for (int i = 0; i < 3; i++) assertEquals(bwant[i], brow[i], "BF16 value " + i);
            // [1, -2, 0.5] . [3, 1, 4] = 3 - 2 + 2 = 3
            WeightMatrix h3 = fastPath ? WeightMatrices.of(GgmlType.F16, f16, 1, 3) : WeightMatrices.reference(GgmlType.F16, f16, 1, 3);
            float[] out = new float[1];
            h3.matvec(new float[]{3, 1, 4}, 0, out, 0, 0, 1);
            assertEquals(3f, out[0], "F16 dot");
        }
    }

    @Test
    void badSizesAreRejectedWithTheShapeInTheMessage() {
        MemorySegment small = Arena.ofAuto().allocate(4 * 10);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WeightMatrices.of(GgmlType.F32, small, 3, 4));
        assertTrue(e.getMessage().contains("[3 x 4]") && e.getMessage().contains("48"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WeightMatrices.of(GgmlType.F16, small, 0, 4));
        WeightMatrix w = WeightMatrices.of(GgmlType.F32, small, 2, 5);
        assertThrows(IllegalArgumentException.class, () -> MatOps.matvec(w, new float[4], 0, new float[2], 0));
    }
}
