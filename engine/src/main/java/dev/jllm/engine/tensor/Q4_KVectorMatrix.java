package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.jllm.engine.tensor.FloatVectors.B;
import static dev.jllm.engine.tensor.FloatVectors.F;
import static dev.jllm.engine.tensor.FloatVectors.L;
import static dev.jllm.engine.tensor.FloatVectors.LE;

/**
 * Q4_K weights . Q8_K activations (llama.cpp's ggml_vec_dot_q4_K_q8_K): per 256-block and 32-wide sub-block s,
 * {@code dx * (d * sc[s] * sum(q * qx) - dmin * m[s] * sum(qx))}; the second term uses the activation sub-block
 * sums, so the minimums cost one scalar multiply-add per sub-block.
 */
final class Q4_KVectorMatrix extends VectorQuantMatrix {
    private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    Q4_KVectorMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q4_K, data, rows, cols);
    }

    /** Unpacks the 12 scale bytes at {@code sc} into 8 six-bit scales {@code dst[0..8)} and mins {@code dst[8..16)}. */
    private void scalesAndMins(long sc, int[] dst) {
        long lo = data.get(I64_LE, sc);   // bytes 0..7
        int hi = data.get(I32_LE, sc + 8); // bytes 8..11
        for (int j = 0; j < 4; j++) {
            int bj = (int) (lo >>> (8 * j)) & 0xFF;        // byte j
            int bj4 = (int) (lo >>> (8 * (j + 4))) & 0xFF; // byte j + 4
            int bj8 = (hi >>> (8 * j)) & 0xFF;             // byte j + 8
            dst[j] = bj & 63;
            dst[8 + j] = bj4 & 63;
            dst[j + 4] = (bj8 & 0xF) | ((bj >> 6) << 4);
            dst[8 + j + 4] = (bj8 >> 4) | ((bj4 >> 6) << 4);
        }
    }

    @Override
    float dot(long rowOffset, Activations a, int i) {
        float[] q = a.q, qd = a.qd, qsum = a.qsum;
        int q0 = i * cols;
        int[] sm = new int[16];
        FloatVector acc = FloatVector.zero(F);
        float mins = 0f;
        for (int k = 0; k < cols / 256; k++) {
            long b = rowOffset + 144L * k;
            int qk = q0 + 256 * k;
            float dx = qd[qk / 256];
            float d = dx * QuantBlocks.f16(data, b), dmin = dx * QuantBlocks.f16(data, b + 2);
            scalesAndMins(b + 4, sm);
            long qs = b + 16;
            int summ = 0;
            for (int c = 0; c < 4; c++) {
                FloatVector sLo = FloatVector.zero(F), sHi = FloatVector.zero(F);
                for (int j = 0; j < 32; j += L) {
                    ByteVector packed = ByteVector.fromMemorySegment(B, data, qs + 32 * c + j, LE);
                    FloatVector lo = FloatVectors.bytesToF32(packed.and((byte) 0xF));
                    FloatVector hi = FloatVectors.bytesToF32(packed.lanewise(VectorOperators.LSHR, 4));
                    sLo = lo.fma(FloatVector.fromArray(F, q, qk + 64 * c + j), sLo);
                    sHi = hi.fma(FloatVector.fromArray(F, q, qk + 64 * c + 32 + j), sHi);
                }
                acc = sLo.fma(FloatVector.broadcast(F, d * sm[2 * c]), acc);
                acc = sHi.fma(FloatVector.broadcast(F, d * sm[2 * c + 1]), acc);
                summ += sm[8 + 2 * c] * (int) qsum[qk / 32 + 2 * c] + sm[8 + 2 * c + 1] * (int) qsum[qk / 32 + 2 * c + 1];
            }
            mins += dmin * summ;
        }
        return acc.reduceLanes(VectorOperators.ADD) - mins;
    }

    @Override
    void dot4(long rowOffset, Activations a, int i, float[] out, int outIndex) {
        float[] q = a.q, qd = a.qd, qsum = a.qsum;
        int q0 = i * cols;
        int[] sm = new int[16];
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F), acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
        float[] mins = new float[4];
        for (int k = 0; k < cols / 256; k++) {
            long b = rowOffset + 144L * k;
            int qk = q0 + 256 * k;
            float dw = QuantBlocks.f16(data, b), dminw = QuantBlocks.f16(data, b + 2);
            float d0 = dw * qd[qk / 256], d1 = dw * qd[(qk + cols) / 256];
            float d2 = dw * qd[(qk + 2 * cols) / 256], d3 = dw * qd[(qk + 3 * cols) / 256];
            scalesAndMins(b + 4, sm);
            long qs = b + 16;
            for (int c = 0; c < 4; c++) {
                FloatVector lo0 = FloatVector.zero(F), hi0 = FloatVector.zero(F), lo1 = FloatVector.zero(F), hi1 = FloatVector.zero(F);
                FloatVector lo2 = FloatVector.zero(F), hi2 = FloatVector.zero(F), lo3 = FloatVector.zero(F), hi3 = FloatVector.zero(F);
                for (int j = 0; j < 32; j += L) {
                    ByteVector packed = ByteVector.fromMemorySegment(B, data, qs + 32 * c + j, LE);
                    FloatVector lo = FloatVectors.bytesToF32(packed.and((byte) 0xF));
                    FloatVector hi = FloatVectors.bytesToF32(packed.lanewise(VectorOperators.LSHR, 4));
                    int x = qk + 64 * c + j;
                    lo0 = lo.fma(FloatVector.fromArray(F, q, x), lo0);
                    hi0 = hi.fma(FloatVector.fromArray(F, q, x + 32), hi0);
                    lo1 = lo.fma(FloatVector.fromArray(F, q, x + cols), lo1);
                    hi1 = hi.fma(FloatVector.fromArray(F, q, x + cols + 32), hi1);
                    lo2 = lo.fma(FloatVector.fromArray(F, q, x + 2 * cols), lo2);
                    hi2 = hi.fma(FloatVector.fromArray(F, q, x + 2 * cols + 32), hi2);
                    lo3 = lo.fma(FloatVector.fromArray(F, q, x + 3 * cols), lo3);
                    hi3 = hi.fma(FloatVector.fromArray(F, q, x + 3 * cols + 32), hi3);
                }
                float scLo = sm[2 * c], scHi = sm[2 * c + 1];
                acc0 = hi0.fma(FloatVector.broadcast(F, d0 * scHi), lo0.fma(FloatVector.broadcast(F, d0 * scLo), acc0));
                acc1 = hi1.fma(FloatVector.broadcast(F, d1 * scHi), lo1.fma(FloatVector.broadcast(F, d1 * scLo), acc1));
                acc2 = hi2.fma(FloatVector.broadcast(F, d2 * scHi), lo2.fma(FloatVector.broadcast(F, d2 * scLo), acc2));
                acc3 = hi3.fma(FloatVector.broadcast(F, d3 * scHi), lo3.fma(FloatVector.broadcast(F, d3 * scLo), acc3));
            }
            for (int n = 0; n < 4; n++) {
                int s0 = (qk + n * cols) / 32;
                int summ = 0;
                for (int s = 0; s < 8; s++) summ += sm[8 + s] * (int) qsum[s0 + s];
                mins[n] += dminw * qd[(qk + n * cols) / 256] * summ;
            }
        }
        out[outIndex] = acc0.reduceLanes(VectorOperators.ADD) - mins[0];
        out[outIndex + rows] = acc1.reduceLanes(VectorOperators.ADD) - mins[1];
        out[outIndex + 2 * rows] = acc2.reduceLanes(VectorOperators.ADD) - mins[2];
        out[outIndex + 3 * rows] = acc3.reduceLanes(VectorOperators.ADD) - mins[3];
    }
}
