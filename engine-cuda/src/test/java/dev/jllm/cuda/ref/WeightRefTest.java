package dev.jllm.cuda.ref;

import dev.jllm.cuda.kernels.DeviceLayout;
import dev.jllm.engine.tensor.WeightMatrices;
import dev.jllm.engine.tensor.WeightMatrix;
import dev.jllm.gguf.GgmlType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The weight-reading references against the engine's scalar code (dequantization must be bit-identical)
 * and hand-computed blocks; the device layout read back through {@code load_weight}'s twin must give
 * the same weights.
 */
class WeightRefTest {
    /** Float-activation dot products against the engine's float reference (F32/F16/BF16). */
    static final double FLOAT_MATVEC_REL_TOL = 1e-5;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void dequantizationMatchesTheEngineBitForBit() {
        for (GgmlType type : TestData.KERNEL_TYPES) {
            int rows = 7, cols = TestData.awkwardCols(type);
            MemorySegment w = TestData.weights(type, rows, cols, 11);
            WeightMatrix engine = WeightMatrices.reference(type, w, rows, cols);
            float[] mine = new float[cols], theirs = new float[cols];
            for (int r = 0; r < rows; r++) {
                WeightRef.ggmlRow(type, w, cols, r, mine);
                engine.row(r, theirs, 0);
                assertArrayEquals(theirs, mine, 0f, type + " row " + r);
            }
        }
    }

    @Test
    void deviceLayoutReadsBackTheSameWeights() {
        for (GgmlType type : TestData.KERNEL_TYPES) {
            int rows = 5, cols = TestData.awkwardCols(type);
            MemorySegment w = TestData.weights(type, rows, cols, 12);
            MemorySegment dev = Arena.ofAuto().allocate(DeviceLayout.bytes(type, rows, cols), 16);
            DeviceLayout.repack(type, rows, cols, w, dev);
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                WeightRef.ggmlRow(type, w, cols, r, row);
                for (int c = 0; c < cols; c++) {
                    assertEquals(row[c], WeightRef.deviceWeight(type, dev, rows, cols, r, c), 0f, type + " [" + r + "][" + c + "]");
                }
            }
        }
    }

    @Test
    void q8_0AndQ4_0BlocksByHand() {
        MemorySegment q8 = Arena.ofAuto().allocate(34);
        q8.set(I16, 0, Float.floatToFloat16(0.5f));
        for (int j = 0; j < 32; j++) q8.set(ValueLayout.JAVA_BYTE, 2 + j, (byte) (j - 16));
        float[] out = new float[32];
        WeightRef.ggmlRow(GgmlType.Q8_0, q8, 32, 0, out);
        assertEquals(-8f, out[0]);
        assertEquals(7.5f, out[31]);

        MemorySegment q4 = Arena.ofAuto().allocate(18);
        q4.set(I16, 0, Float.floatToFloat16(2f));
        q4.set(ValueLayout.JAVA_BYTE, 2, (byte) 0x1F);  // weight 0: low nibble 15; weight 16: high nibble 1
        WeightRef.ggmlRow(GgmlType.Q4_0, q4, 32, 0, out);
        assertEquals(14f, out[0]);
        assertEquals(-14f, out[16]);
        assertEquals(-16f, out[1], "nibble 0 is -8 * d");
        // device layout: quants first, the scale after them
        MemorySegment dev = Arena.ofAuto().allocate(18);
        DeviceLayout.repack(GgmlType.Q4_0, 1, 32, q4, dev);
        assertEquals((byte) 0x1F, dev.get(ValueLayout.JAVA_BYTE, 0));
        assertEquals(Float.floatToFloat16(2f), dev.get(I16, 16));
    }

    @Test
    void floatMatvecMatchesTheEngine() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (GgmlType type : new GgmlType[]{GgmlType.F32, GgmlType.F16, GgmlType.BF16}) {
            int rows = 13, cols = 251;
            MemorySegment w = TestData.weights(type, rows, cols, 5);
            float[] x = TestData.floats(rnd, cols, 1);
            float[] mine = WeightRef.matvec(type, w, rows, cols, x);
            float[] theirs = new float[rows];
            WeightMatrices.reference(type, w, rows, cols).matvec(x, 0, theirs, 0, 0, rows);
            for (int r = 0; r < rows; r++) {
                assertEquals(theirs[r], mine[r], FLOAT_MATVEC_REL_TOL * (1 + Math.abs(theirs[r])), type + " row " + r);
            }
        }
    }

    @Test
    void matmulIsTheMatvecOfEachToken() {
        SplittableRandom rnd = new SplittableRandom(4);
        int rows = 9, cols = 64, tokens = 3;
        MemorySegment w = TestData.weights(GgmlType.Q4_0, rows, cols, 6);
        float[] x = TestData.floats(rnd, tokens * cols, 1);
        float[] y = WeightRef.matmul(GgmlType.Q4_0, w, rows, cols, x, tokens);
        for (int t = 0; t < tokens; t++) {
            float[] xt = java.util.Arrays.copyOfRange(x, t * cols, (t + 1) * cols);
            assertArrayEquals(WeightRef.matvec(GgmlType.Q4_0, w, rows, cols, xt), java.util.Arrays.copyOfRange(y, t * rows, (t + 1) * rows), 0f);
        }
    }

    @Test
    void embeddingGathersDequantizedRows() {
        MemorySegment table = TestData.weights(GgmlType.Q8_0, 10, 64, 8);
        float[] e = WeightRef.embedding(GgmlType.Q8_0, table, 64, new int[]{3, 3, 9});
        float[] row = new float[64];
        WeightRef.ggmlRow(GgmlType.Q8_0, table, 64, 9, row);
        assertArrayEquals(row, java.util.Arrays.copyOfRange(e, 128, 192), 0f);
        assertArrayEquals(java.util.Arrays.copyOfRange(e, 0, 64), java.util.Arrays.copyOfRange(e, 64, 128), 0f);
    }

    @Test
    void deviceLayoutChecksNameTheTensor() {
        var e = assertThrows(IllegalArgumentException.class, () -> DeviceLayout.check("token_embd.weight", GgmlType.Q6_K, 10, 300));
        assertTrue(e.getMessage().startsWith("token_embd.weight: 300 columns"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DeviceLayout.repack(GgmlType.Q8_0, 2, 32,
                Arena.ofAuto().allocate(34), Arena.ofAuto().allocate(68)));
    }
}
