package dev.jllm.cuda.ref;

/** CPU twins of {@code rmsnorm.cu}, {@code swiglu.cu}, {@code residual_add.cu} and {@code moe_combine}. */
public final class ElementwiseRef {
    private ElementwiseRef() {
    }

    /** {@code out[r][i] = x[r][i] / sqrt(mean(x[r]^2) + eps) * w[i]} for {@code nRows} rows of {@code dim}. */
    public static float[] rmsnorm(float[] x, float[] w, int nRows, int dim, float eps) {
        float[] out = new float[nRows * dim];
        for (int r = 0; r < nRows; r++) {
            double ss = 0;
            for (int i = 0; i < dim; i++) ss += (double) x[r * dim + i] * x[r * dim + i];
            double scale = 1.0 / Math.sqrt(ss / dim + eps);
            for (int i = 0; i < dim; i++) out[r * dim + i] = (float) (x[r * dim + i] * scale * w[i]);
        }
        return out;
    }

    /** {@code silu(gate) * up}. */
    public static float[] swiglu(float[] gate, float[] up) {
        float[] out = new float[gate.length];
        for (int i = 0; i < gate.length; i++) out[i] = (float) (gate[i] / (1 + Math.exp(-gate[i])) * up[i]);
        return out;
    }

    /** {@code x + delta}. */
    public static float[] add(float[] x, float[] delta) {
        float[] out = x.clone();
        for (int i = 0; i < x.length; i++) out[i] += delta[i];
        return out;
    }

    /** {@code x + sum_j weights[j] * y[j]} with {@code y [slots][dim]}. */
    public static float[] moeCombine(float[] y, float[] weights, float[] x, int slots, int dim) {
        float[] out = x.clone();
        for (int i = 0; i < dim; i++) {
            double acc = 0;
            for (int j = 0; j < slots; j++) acc += (double) weights[j] * y[j * dim + i];
            out[i] += (float) acc;
        }
        return out;
    }
}
