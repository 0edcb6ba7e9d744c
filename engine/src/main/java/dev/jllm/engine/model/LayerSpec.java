package dev.jllm.engine.model;

/**
 * What one transformer layer is made of, where layers of a model differ (Mistral's sliding window on every
 * layer; Llama 4's NoPE and chunked-attention layers and its alternation of dense and MoE layers).
 *
 * @param attention which positions a query may see
 * @param window    sliding-window size for {@link AttentionKind#SLIDING}, chunk size for
 *                  {@link AttentionKind#CHUNKED}, 0 for {@link AttentionKind#GLOBAL}
 * @param rope      whether RoPE is applied (false: a NoPE layer)
 * @param ffn       the feed-forward kind
 */
public record LayerSpec(AttentionKind attention, int window, boolean rope, FfnKind ffn) {
    public enum AttentionKind {
        /** Causal: every earlier position. */
        GLOBAL,
        /** Causal, the last {@code window} positions (the query's own included). */
        SLIDING,
        /** Causal within fixed blocks of {@code window} positions (Llama 4's chunked attention). */
        CHUNKED
    }

    public enum FfnKind {
        /** SwiGLU: {@code w2(silu(w1 x) * w3 x)}. */
        DENSE,
        /** Mixtral: top-k of n SwiGLU experts, softmax over the chosen router logits. */
        MOE,
        /** Llama 4: top-1 routed expert (sigmoid score on its input) plus an always-on shared expert. */
        MOE_SHARED
    }

    public LayerSpec {
        if ((attention == AttentionKind.GLOBAL) != (window == 0) || window < 0) {
            throw new IllegalArgumentException("attention " + attention + " with window " + window);
        }
    }

    public static LayerSpec dense() {
        return new LayerSpec(AttentionKind.GLOBAL, 0, true, FfnKind.DENSE);
    }

    /**
     * The first position a query at {@code pos} attends to (the last is {@code pos} itself).
     */
    public int firstVisible(int pos) {
        return switch (attention) {
            case GLOBAL -> 0;
            case SLIDING -> Math.max(0, pos - window + 1);
            case CHUNKED -> pos - pos % window;
        };
    }

    /** How many past positions a KV cache must keep for this layer, given the model's context. */
    public int cacheCapacity(int context) {
        return attention == AttentionKind.GLOBAL ? context : Math.min(context, window);
    }
}
