package dev.jllm.engine.llama;

/**
 * The feed-forward half of a transformer layer (after its norm), applied to each token independently:
 * {@link SwiGluFfn}, {@link SparseMoeFfn}; Llama 4's MoE with a shared expert lives beside them.
 */
public interface FeedForwardBlock {
    /**
     * @param n   tokens
     * @param x   {@code [n][dim]} normalized input
     * @param out {@code [n][dim]} output, overwritten
     */
    void forward(int n, float[] x, float[] out);
}
