package dev.jllm.engine.llama4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jllm.engine.llama.SwiGluFfn;
import dev.jllm.engine.tensor.WeightMatrices;
import dev.jllm.engine.tensor.WeightMatrix;
import dev.jllm.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Llama4MoeFfnTest {
    static final double TOLERANCE = 1e-5;
    static final Arena ARENA = Arena.ofAuto();

    /** An F32 matrix (fast kernel) holding {@code w[r][c]}. */
    static WeightMatrix matrix(float[][] w) {
        int rows = w.length, cols = w[0].length;
        MemorySegment seg = ARENA.allocate(4L * rows * cols, 64);
        for (int r = 0; r < rows; r++) {
            MemorySegment.copy(w[r], 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED, 4L * r * cols, cols);
        }
        return WeightMatrices.of(GgmlType.F32, seg, rows, cols);
    }

    static float[][] random(Random r, int rows, int cols) {
        float[][] w = new float[rows][cols];
        for (float[] row : w) for (int c = 0; c < cols; c++) row[c] = (float) r.nextGaussian() * 0.7f;
        return w;
    }

    static double[] mul(float[][] w, double[] x) {
        double[] y = new double[w.length];
        for (int r = 0; r < w.length; r++) for (int c = 0; c < x.length; c++) y[r] += w[r][c] * x[c];
        return y;
    }

    /** Reference SwiGLU in double: {@code w2 (silu(w1 x) * w3 x)}. */
    static double[] swiglu(float[][][] e, double[] x) {
        double[] g = mul(e[0], x), u = mul(e[2], x);
        double[] h = new double[g.length];
        for (int i = 0; i < h.length; i++) h[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
        return mul(e[1], h);
    }

    @Test
    void matchesTheDefinitionAtOddSizes() {
        for (int topK : new int[] {1, 2}) {
            int dim = 7, hidden = 5, nExperts = 3, n = 5;
            Random r = new Random(31 + topK);
            float[][] router = random(r, nExperts, dim);
            float[][][][] experts = new float[nExperts][][][];
            for (int e = 0; e < nExperts; e++) {
                experts[e] = new float[][][] {random(r, hidden, dim), random(r, dim, hidden), random(r, hidden, dim)};
            }
            float[][][] shared = {random(r, hidden, dim), random(r, dim, hidden), random(r, hidden, dim)};
            float[] x = new float[n * dim]; // [n][dim]
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();

            SwiGluFfn[] blocks = new SwiGluFfn[nExperts];
            for (int e = 0; e < nExperts; e++) {
                blocks[e] = new SwiGluFfn(matrix(experts[e][0]), matrix(experts[e][1]), matrix(experts[e][2]));
            }
            var moe = new Llama4MoeFfn(matrix(router), blocks,
                    new SwiGluFfn(matrix(shared[0]), matrix(shared[1]), matrix(shared[2])), topK);
            float[] out = new float[n * dim];
            moe.forward(n, x, out);

            for (int t = 0; t < n; t++) {
                double[] xt = new double[dim];
                for (int d = 0; d < dim; d++) xt[d] = x[t * dim + d];
                double[] logits = mul(router, xt);
                double[] expected = swiglu(shared, xt);
                boolean[] taken = new boolean[nExperts];
                for (int j = 0; j < topK; j++) {
                    int best = -1;
                    for (int e = 0; e < nExperts; e++) if (!taken[e] && (best < 0 || logits[e] > logits[best])) best = e;
                    taken[best] = true;
                    double s = 1 / (1 + Math.exp(-logits[best]));   // the score scales the expert's INPUT
                    double[] scaled = new double[dim];
                    for (int d = 0; d < dim; d++) scaled[d] = s * xt[d];
                    double[] y = swiglu(experts[best], scaled);
                    for (int d = 0; d < dim; d++) expected[d] += y[d];
                }
                for (int d = 0; d < dim; d++) {
                    assertEquals(expected[d], out[t * dim + d], TOLERANCE, "top-" + topK + " token " + t + " dim " + d);
                }
            }
        }
    }

    @Test
    void routerMustFitTheExperts() {
        Random r = new Random(1);
        SwiGluFfn e = new SwiGluFfn(matrix(random(r, 3, 4)), matrix(random(r, 4, 3)), matrix(random(r, 3, 4)));
        var ex = assertThrows(IllegalArgumentException.class,
                () -> new Llama4MoeFfn(matrix(random(r, 3, 4)), new SwiGluFfn[] {e, e}, e, 1));
        assertEquals("router has 3 outputs for 2 experts", ex.getMessage());
    }
}
