package dev.jllm.engine.llama;

import dev.jllm.engine.tensor.MatOps;
import dev.jllm.engine.tensor.WeightMatrix;

/** SwiGLU feed-forward: {@code out = w2 (silu(w1 x) * (w3 x))}. */
public final class SwiGluFfn implements FeedForwardBlock {
    private final WeightMatrix w1; // [hidden, dim] gate
    private final WeightMatrix w2; // [dim, hidden] down
    private final WeightMatrix w3; // [hidden, dim] up
    private final WeightMatrix[] w13; // w1, w3: one pass over the input

    public SwiGluFfn(WeightMatrix w1, WeightMatrix w2, WeightMatrix w3) {
        if (w1.rows() != w3.rows() || w1.cols() != w3.cols() || w2.cols() != w1.rows() || w2.rows() != w1.cols()) {
            throw new IllegalArgumentException("SwiGLU shapes do not fit: w1 " + w1.rows() + "x" + w1.cols() + ", w2 "
                    + w2.rows() + "x" + w2.cols() + ", w3 " + w3.rows() + "x" + w3.cols());
        }
        this.w1 = w1;
        this.w2 = w2;
        this.w3 = w3;
        this.w13 = new WeightMatrix[]{w1, w3};
    }

    public int hidden() {
        return w1.rows();
    }

    @Override
    public void forward(int n, float[] x, float[] out) {
        int hidden = w1.rows();
        float[] h1 = new float[n * hidden]; // [n][hidden]
        float[] h3 = new float[n * hidden]; // [n][hidden]
        MatOps.matmul(w13, x, n, new float[][]{h1, h3});
        Ops.swiglu(h1, h3, n * hidden);
        MatOps.matmul(w2, h1, n, out);
    }
}
