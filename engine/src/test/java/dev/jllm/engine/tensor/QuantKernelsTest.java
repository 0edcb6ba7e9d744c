package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuantKernelsTest {
    /** Fast kernel vs the scalar integer arithmetic: same integers, only F32 summation order differs (relative to sum |w * x|). */
    static final float QUANT_ARITH_TOLERANCE = 1e-5f;
    /** Slack on top of the activation rounding bound when comparing with the F32 reference (relative to sum |w * x|). */
    static final float REFERENCE_SLACK = 1e-5f;
    static final GgmlType[] QUANT_TYPES = {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K};
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static MemorySegment quantizedRandom(GgmlType type, int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        float[] row = new float[cols];
        long rowBytes = type.bytesFor(cols);
        MemorySegment s = Arena.ofAuto().allocate(rowBytes * rows);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) row[c] = (float) rnd.nextGaussian() * 0.05f + (c % 7 == 0 ? 0.01f : 0f);
            for (int k = 0; k < cols / type.blockSize; k++) {
                QuantBlocks.quantize(type, row, k * type.blockSize, s, r * rowBytes + (long) k * type.blockBytes);
            }
        }
        return s;
    }

    @Test
    void fastEqualsScalarQuantizedArithmeticAndFloatReferenceAtAwkwardSizes() {
        int[] rowCounts = {1, 7, 13, 97};
        for (GgmlType type : QUANT_TYPES) {
            int[] blockCounts = type.blockSize == 32 ? new int[]{1, 3, 7, 33} : new int[]{1, 3, 5};
            for (int rows : rowCounts) {
                for (int blocks : blockCounts) {
                    int cols = blocks * type.blockSize;
                    MemorySegment data = quantizedRandom(type, rows, cols, rows * 1000L + cols);
                    WeightMatrix fast = WeightMatrices.of(type, data, rows, cols);
                    QuantMatrix ref = (QuantMatrix) WeightMatrices.reference(type, data, rows, cols);
                    for (int n : new int[]{1, 3, 7, 8, 13}) {
                        float[] x = FloatKernelsTest.randomVector(n * cols + 3, cols + n);
                        float[] got = new float[n * rows];
                        MatOps.matmul(fast, x, 3, n, got, 0);
                        float[] want = new float[n * rows];
                        ref.matmul(ref.prepare(x, 3, n), want, 0, 0, rows);
                        Activations q = QuantBlocks.quantizeActivations(type, x, 3, n, cols);
                        float[] deq = new float[cols];
                        for (int i = 0; i < n; i++) {
                            for (int r = 0; r < rows; r++) {
                                ref.row(r, deq, 0);
                                double absDot = 0, bound = 0;
                                for (int c = 0; c < cols; c++) absDot += Math.abs(deq[c] * x[3 + i * cols + c]);
                                // 8-bit activations move each x by at most half a step, amax / 254, of its block
                                int ab = q.blockSize;
                                for (int k = 0; k < cols / ab; k++) {
                                    float amax = 0;
                                    double absW = 0;
                                    for (int j = 0; j < ab; j++) {
                                        amax = Math.max(amax, Math.abs(x[3 + i * cols + k * ab + j]));
                                        absW += Math.abs(deq[k * ab + j]);
                                    }
                                    bound += absW * amax / 254.0 * 1.001;
                                }
                                String where = type + " " + rows + "x" + cols + " n=" + n + " input " + i + " row " + r;
                                float g = got[i * rows + r];
                                float arith = ref.dotQuantized(r, q, i);
                                assertTrue(Math.abs(g - arith) <= QUANT_ARITH_TOLERANCE * absDot + 1e-6,
                                        where + ": fast " + g + " vs scalar quantized " + arith);
                                float w = want[i * rows + r];
                                assertTrue(Math.abs(g - w) <= bound + REFERENCE_SLACK * absDot + 1e-6,
                                        where + ": fast " + g + " vs F32 reference " + w + " (bound " + bound + ")");
                            }
                        }
                    }
                    float[] rowFast = new float[cols], rowRef = new float[cols];
                    fast.row(rows - 1, rowFast, 0);
                    ref.row(rows - 1, rowRef, 0);
                    assertArrayEquals(rowRef, rowFast, type + " row");
                }
            }
        }
    }

    /** Prefill-sized batches take the tiled path's large row tiles (37 rows = 16 + 16 + 5): same integers as the scalar arithmetic. */
    @Test
    void largeBatchesOverSeveralRowTilesEqualScalarQuantizedArithmetic() {
        int rows = 37, cols = 2048, n = 33;
        for (GgmlType type : QUANT_TYPES) {
            MemorySegment data = quantizedRandom(type, rows, cols, 5);
            WeightMatrix fast = WeightMatrices.of(type, data, rows, cols);
            QuantMatrix ref = (QuantMatrix) WeightMatrices.reference(type, data, rows, cols);
            float[] x = FloatKernelsTest.randomVector(n * cols, 13);
            float[] got = new float[n * rows];
            MatOps.matmul(fast, x, n, got);
            Activations q = QuantBlocks.quantizeActivations(type, x, 0, n, cols);
            float[] deq = new float[cols];
            for (int r = 0; r < rows; r++) {
                ref.row(r, deq, 0);
                for (int i = 0; i < n; i++) {
                    double absDot = 0;
                    for (int c = 0; c < cols; c++) absDot += Math.abs(deq[c] * x[i * cols + c]);
                    float arith = ref.dotQuantized(r, q, i), g = got[i * rows + r];
                    assertTrue(Math.abs(g - arith) <= QUANT_ARITH_TOLERANCE * absDot + 1e-6,
                            type + " row " + r + " input " + i + ": fast " + g + " vs scalar quantized " + arith);
                }
            }
        }
    }

    static MemorySegment bytes(int n) {
        return Arena.ofAuto().allocate(n);
    }

    static float[] dequantizeWithBoth(GgmlType type, MemorySegment block) {
        int n = type.blockSize;
        float[] ref = new float[n], fast = new float[n];
        WeightMatrices.reference(type, block, 1, n).row(0, ref, 0);
        WeightMatrices.of(type, block, 1, n).row(0, fast, 0);
        assertArrayEquals(ref, fast, type + " fast and reference dequantize alike");
        return ref;
    }

    @Test
    void q8_0BlockByHand() {
        MemorySegment b = bytes(34);
        b.set(I16, 0, (short) 0x3800); // d = 0.5
        byte[] qs = {1, -2, 127, -128};
        for (int j = 0; j < qs.length; j++) b.set(ValueLayout.JAVA_BYTE, 2 + j, qs[j]);
        float[] w = dequantizeWithBoth(GgmlType.Q8_0, b);
        assertEquals(0.5f, w[0]);
        assertEquals(-1f, w[1]);
        assertEquals(63.5f, w[2]);
        assertEquals(-64f, w[3]);
        assertEquals(0f, w[31]);
    }

    @Test
    void q4_0BlockByHand() {
        MemorySegment b = bytes(18);
        b.set(I16, 0, (short) 0x4000); // d = 2
        b.set(ValueLayout.JAVA_BYTE, 2, (byte) 0x9F); // w0 = (15 - 8) * 2 = 14, w16 = (9 - 8) * 2 = 2
        b.set(ValueLayout.JAVA_BYTE, 3, (byte) 0x08); // w1 = 0, w17 = (0 - 8) * 2 = -16
        float[] w = dequantizeWithBoth(GgmlType.Q4_0, b);
        assertEquals(14f, w[0]);
        assertEquals(2f, w[16]);
        assertEquals(0f, w[1]);
        assertEquals(-16f, w[17]);
        assertEquals(-16f, w[2]); // zero byte: both nibbles -8
    }

    @Test
    void q4_KBlockByHand() {
        MemorySegment b = bytes(144);
        b.set(I16, 0, (short) 0x3C00); // d = 1
        b.set(I16, 2, (short) 0x3800); // dmin = 0.5
        long sc = 4;
        b.set(ValueLayout.JAVA_BYTE, sc, (byte) 3);        // scale of sub-block 0 = 3
        b.set(ValueLayout.JAVA_BYTE, sc + 4, (byte) 2);    // min of sub-block 0 = 2
        // sub-block 5: scale 37 = 0b10_0101, min 50 = 0b11_0010: low 4 bits in byte 9, high 2 bits on top of bytes 1 and 5
        b.set(ValueLayout.JAVA_BYTE, sc + 9, (byte) 0x25);
        b.set(ValueLayout.JAVA_BYTE, sc + 1, (byte) 0x80);
        b.set(ValueLayout.JAVA_BYTE, sc + 5, (byte) 0xC0);
        b.set(ValueLayout.JAVA_BYTE, 16, (byte) 0x7A);      // w0 (low nibble, sub 0) = 10, w32 (high, sub 1) = 7
        b.set(ValueLayout.JAVA_BYTE, 16 + 64, (byte) 0xC0); // w160 (high nibble of qs[64], sub 5) = 12, w128 (sub 4) = 0
        float[] w = dequantizeWithBoth(GgmlType.Q4_K, b);
        assertEquals(1f * 3 * 10 - 0.5f * 2, w[0]);    // 29
        assertEquals(-0.5f * 2, w[1]);                 // q = 0 in sub-block 0
        assertEquals(0f, w[32]);                       // sub-block 1: scale 0, min 0
        assertEquals(1f * 37 * 12 - 0.5f * 50, w[160]); // 419
        assertEquals(-0.5f * 50, w[161]);
        assertEquals(0f, w[128]);
    }

    @Test
    void q6_KBlockByHand() {
        MemorySegment b = bytes(210);
        b.set(I16, 208, (short) 0x3400); // d = 0.25
        long scales = 192;
        b.set(ValueLayout.JAVA_BYTE, scales, (byte) -3);
        b.set(ValueLayout.JAVA_BYTE, scales + 2, (byte) -1);
        b.set(ValueLayout.JAVA_BYTE, scales + 4, (byte) 7);
        b.set(ValueLayout.JAVA_BYTE, scales + 6, (byte) 2);
        b.set(ValueLayout.JAVA_BYTE, scales + 13, (byte) 5);
        b.set(ValueLayout.JAVA_BYTE, 0, (byte) 0x5A);        // ql[0]: w0 low 4 bits 10, w64 low 4 bits 5
        b.set(ValueLayout.JAVA_BYTE, 32, (byte) 0x03);       // ql[32]: w32 low 4 bits 3, w96 low 4 bits 0
        b.set(ValueLayout.JAVA_BYTE, 128, (byte) 0xE4);      // qh[0] = 11 10 01 00: high bits w96=3, w64=2, w32=1, w0=0
        b.set(ValueLayout.JAVA_BYTE, 80, (byte) 0xF0);       // ql[80] (second half, l = 16): w208 low 4 bits 15
        b.set(ValueLayout.JAVA_BYTE, 128 + 48, (byte) 0x30); // qh[48]: w208 high bits 3
        float[] w = dequantizeWithBoth(GgmlType.Q6_K, b);
        assertEquals(0.25f * -3 * (10 - 32), w[0]);      // 16.5
        assertEquals(0.25f * -1 * (3 + 16 - 32), w[32]); // 3.25
        assertEquals(0.25f * 7 * (5 + 32 - 32), w[64]);  // 8.75
        assertEquals(0.25f * 2 * (0 + 48 - 32), w[96]);  // 8
        assertEquals(0.25f * 5 * (15 + 48 - 32), w[208]); // 38.75
        assertEquals(0.25f * -3 * -32, w[1]);            // all-zero bits: q = -32
    }

    @Test
    void q8_0ActivationsRoundHalfToEvenWithAnFp16Scale() {
        float[] x = new float[32];
        x[0] = 127f;
        x[1] = -63.5f;
        x[2] = 0.5f;
        x[3] = 1.5f;
        x[4] = -2.6f;
        Activations a = Activations.q8_0(x, 0, 1, 32);
        assertEquals(1f, a.qd[0]); // 127 / 127
        assertEquals(127f, a.q[0]);
        assertEquals(-64f, a.q[1]);
        assertEquals(0f, a.q[2]);
        assertEquals(2f, a.q[3]);
        assertEquals(-3f, a.q[4]);
        assertEquals(127 - 64 + 0 + 2 - 3, a.qsum[0]);
        float[] y = new float[32];
        y[7] = 0.1f; // d = 0.1 / 127 rounded to FP16
        Activations b = Activations.q8_0(y, 0, 1, 32);
        assertEquals(Float.float16ToFloat(Float.floatToFloat16(0.1f / 127f)), b.qd[0]);
        assertEquals(127f, b.q[7]);
    }

    @Test
    void q8_KActivationsMapTheSignedMaximumToMinus127() {
        float[] x = new float[256];
        x[0] = 2f;
        x[1] = -1f;
        x[40] = 1f;
        Activations a = Activations.q8_K(x, 0, 1, 256);
        assertEquals(-2f / 127f, a.qd[0], 1e-9); // 1 / iscale, iscale = -127 / 2
        assertEquals(-127f, a.q[0]);
        assertEquals(64f, a.q[1]);  // -1 * -63.5 = 63.5 rounds to even 64
        assertEquals(-64f, a.q[40]);
        assertEquals(-127 + 64, a.qsum[0]);
        assertEquals(-64, a.qsum[1]);
    }

    @Test
    void quantizersRoundTripWithinOneStep() {
        Random rnd = new Random(3);
        for (GgmlType type : QUANT_TYPES) {
            int n = type.blockSize;
            float[] x = new float[n];
            for (int j = 0; j < n; j++) x[j] = (float) rnd.nextGaussian();
            MemorySegment b = bytes(type.blockBytes);
            QuantBlocks.quantize(type, x, 0, b, 0);
            float[] back = dequantizeWithBoth(type, b);
            float amax = 0;
            for (float v : x) amax = Math.max(amax, Math.abs(v));
            // worst step: Q4_0 spans [-amax, amax] in 15 steps, Q4_K a sub-block's range in 15
            float tol = switch (type) {
                case Q8_0 -> amax / 127f;
                case Q4_0 -> amax / 8f;
                case Q4_K -> 2 * amax / 15f * 1.2f;
                default -> amax / 32f * 1.2f;
            };
            for (int j = 0; j < n; j++) {
                assertTrue(Math.abs(back[j] - x[j]) <= tol, type + " weight " + j + ": " + x[j] + " -> " + back[j]);
            }
        }
    }

    @Test
    void badSizesAreRejectedWithAClearMessage() {
        MemorySegment s = bytes(34 * 10);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WeightMatrices.of(GgmlType.Q8_0, s, 2, 48));
        assertTrue(e.getMessage().contains("multiple of the Q8_0 block size 32"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> WeightMatrices.of(GgmlType.Q4_K, s, 3, 256));
        assertTrue(e.getMessage().contains("needs 432 bytes"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> WeightMatrices.of(GgmlType.Q4_1, s, 1, 32));
        assertTrue(e.getMessage().contains("Q4_1"), e.getMessage());
    }
}
