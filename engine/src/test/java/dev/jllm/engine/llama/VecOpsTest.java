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
        }
    }
}
