package dev.jllm.engine.llama;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class VecOpsTest {
    /** Sums of up to ~131 products of values in [-1, 1] in a different order: float rounding only. */
    static final float TOLERANCE = 1e-5f;

    @Test
    void matchScalarAtAwkwardSizes() {
        Random r = new Random(5);
        for (int n : new int[] {1, 3, 7, 8, 15, 16, 17, 31, 64, 67, 128, 131}) {
            float[] a = new float[n + 5], b = new float[n + 9], y1 = new float[n + 2], y2;
            for (int i = 0; i < a.length; i++) a[i] = r.nextFloat() * 2 - 1;
            for (int i = 0; i < b.length; i++) b[i] = r.nextFloat() * 2 - 1;
            for (int i = 0; i < y1.length; i++) y1[i] = r.nextFloat();
            y2 = y1.clone();
            assertEquals(VecOps.dotScalar(a, 3, b, 7, n), VecOps.dot(a, 3, b, 7, n), TOLERANCE, "dot n=" + n);
            VecOps.axpy(0.37f, b, 5, y1, 1, n);
            VecOps.axpyScalar(0.37f, b, 5, y2, 1, n);
            for (int i = 0; i < y1.length; i++) assertEquals(y2[i], y1[i], TOLERANCE, "axpy n=" + n + " i=" + i);
            assertEquals(y2[0], y1[0], 0f, "untouched before the offset");
            for (int nq : new int[] {1, 3, 4, 5, 8}) {
                float[] q = new float[nq * (n + 1) + 2];
                for (int i = 0; i < q.length; i++) q[i] = r.nextFloat() * 2 - 1;
                float[] out = new float[nq * 3 + 1];
                VecOps.dotMany(q, 2, n + 1, nq, b, 4, n, 0.5f, out, 1, 3);
                for (int j = 0; j < nq; j++) {
                    assertEquals(0.5f * VecOps.dotScalar(q, 2 + j * (n + 1), b, 4, n), out[1 + j * 3], TOLERANCE,
                            "dotMany n=" + n + " nq=" + nq + " j=" + j);
                }
            }
        }
    }

    /** Vector exp (SVML-class, ~1 ulp) against Math.exp: relative error of the probabilities. */
    static final float SOFTMAX_TOLERANCE = 1e-6f;

    @Test
    void softmaxMatchesScalar() {
        Random r = new Random(6);
        for (int n : new int[] {1, 5, 31, 32, 33, 100, 257, 4099}) {
            float[] a = new float[n + 3];
            for (int i = 0; i < a.length; i++) a[i] = (r.nextFloat() - 0.5f) * 30;
            float[] b = a.clone();
            Ops.softmax(a, 2, n);
            Ops.softmaxScalar(b, 2, n);
            double sum = 0;
            for (int i = 0; i < n; i++) {
                assertEquals(b[2 + i], a[2 + i], Math.max(b[2 + i], 1e-30f) * SOFTMAX_TOLERANCE * 10, "n=" + n + " i=" + i);
                sum += a[2 + i];
            }
            assertEquals(1.0, sum, 1e-5);
            assertEquals(b[0], a[0], 0f);
        }
    }

    /** SwiGLU with the Vector API's exp (~1 ulp) against the scalar double exp: relative error of each output. */
    static final float SWIGLU_TOLERANCE = 1e-6f;

    @Test
    void swigluMatchesScalarAtAwkwardSizes() {
        Random r = new Random(8);
        for (int n : new int[] {1, 7, 15, 16, 17, 33, 131, 4099, 40_961}) {
            float[] a = new float[n], b = new float[n];
            for (int i = 0; i < n; i++) {
                a[i] = (r.nextFloat() - 0.5f) * 40; // silu's both tails and the middle
                b[i] = r.nextFloat() * 2 - 1;
            }
            float[] a2 = a.clone();
            Ops.swiglu(a, b, n);
            Ops.swigluScalar(a2, b, n);
            for (int i = 0; i < n; i++) {
                assertEquals(a2[i], a[i], Math.max(Math.abs(a2[i]), 1e-30f) * SWIGLU_TOLERANCE * 4, "n=" + n + " i=" + i);
            }
        }
    }

    @Test
    void weightedSumBlocksMatchesScalar() {
        Random r = new Random(7);
        for (int width : new int[] {8, 64, 67, 128, 130}) {
            int stride = width * 3 + 5, cap = 11, col0 = width + 2;
            float[] rows = new float[cap * stride];
            for (int i = 0; i < rows.length; i++) rows[i] = r.nextFloat() * 2 - 1;
            float[] w = new float[40];
            for (int i = 0; i < w.length; i++) w[i] = r.nextFloat();
            float[] out = new float[width + 4], ref = new float[width + 4];
            for (int i = 0; i < out.length; i++) out[i] = ref[i] = r.nextFloat();
            int from = 13, to = 24, wBase = 3 - from; // ring positions 13..23 (wrapping over 11 slots)
            int done = VecOps.weightedSumBlocks(rows, stride, cap, col0, width, from, to, w, wBase, out, 2);
            assertTrue(done <= width && done % 4 == 0);
            for (int p = from; p < to; p++) {
                VecOps.axpyScalar(w[wBase + p], rows, (p % cap) * stride + col0, ref, 2, done);
            }
            for (int i = 0; i < out.length; i++) assertEquals(ref[i], out[i], TOLERANCE, "width " + width + " i " + i);
        }
    }
}
