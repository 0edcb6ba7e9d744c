package dev.jllm.cuda.ref;

import dev.jllm.engine.llama.Ops;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** RMSNorm, SwiGLU, residual add and the MoE combine against the engine's scalar ops and by hand. */
class ElementwiseRefTest {
    static final float TOL = 1e-6f;

    @Test
    void rmsnormMatchesTheEngine() {
        SplittableRandom rnd = new SplittableRandom(1);
        int rows = 3, dim = 37;
        float[] x = TestData.floats(rnd, rows * dim, 3), w = TestData.floats(rnd, dim, 1);
        float[] theirs = new float[rows * dim];
        Ops.rmsnorm(theirs, x, w, rows, dim, 1e-5f);
        float[] mine = ElementwiseRef.rmsnorm(x, w, rows, dim, 1e-5f);
        for (int i = 0; i < mine.length; i++) assertEquals(theirs[i], mine[i], TOL * (1 + Math.abs(theirs[i])));
    }

    @Test
    void rmsnormByHand() {
        // x = (3, 4): mean square 12.5, scale 1/sqrt(12.5)
        float[] out = ElementwiseRef.rmsnorm(new float[]{3, 4}, new float[]{1, 2}, 1, 2, 0f);
        assertEquals(3 / Math.sqrt(12.5), out[0], 1e-6);
        assertEquals(8 / Math.sqrt(12.5), out[1], 1e-6);
    }

    @Test
    void swigluMatchesTheEngine() {
        SplittableRandom rnd = new SplittableRandom(2);
        float[] g = TestData.floats(rnd, 101, 6), u = TestData.floats(rnd, 101, 2);
        float[] theirs = g.clone();
        Ops.swiglu(theirs, u, g.length);
        assertArrayEquals(theirs, ElementwiseRef.swiglu(g, u), TOL);
        assertEquals(0f, ElementwiseRef.swiglu(new float[]{0}, new float[]{5})[0]);
    }

    @Test
    void addAndCombineByHand() {
        assertArrayEquals(new float[]{4, 6}, ElementwiseRef.add(new float[]{1, 2}, new float[]{3, 4}));
        // x + 0.25 * y0 + 0.75 * y1
        float[] out = ElementwiseRef.moeCombine(new float[]{4, 8, 4, 0}, new float[]{0.25f, 0.75f}, new float[]{1, 1}, 2, 2);
        assertArrayEquals(new float[]{5, 3}, out, TOL);
    }
}
