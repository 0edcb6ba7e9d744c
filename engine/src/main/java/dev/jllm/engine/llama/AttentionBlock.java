package dev.jllm.engine.llama;

/**
 * The attention half of a transformer layer (after its input norm): reads and extends each sequence's KV
 * cache for {@code layer}. Implementations: {@link SelfAttention} (Llama/Mistral/Mixtral); Llama 4's
 * variants live beside it and reuse {@link Attention}'s core.
 */
public interface AttentionBlock {
    /**
     * @param batch the pass's tokens, positions and caches
     * @param layer this layer's index (its slot in every cache)
     * @param x     {@code [n][dim]} normalized input
     * @param out   {@code [n][dim]} output, overwritten (the caller adds it to the residual stream)
     */
    void forward(Batch batch, int layer, float[] x, float[] out);
}
