package dev.jllm.engine.model.hf;

/**
 * The one place that knows Hugging Face tensor names: each engine weight (paper names: {@code wq, wk, wv, wo} for
 * attention, {@code w1} gate / {@code w2} down / {@code w3} up for SwiGLU) and the HF name it is stored under.
 * {@code %d} is the layer, a second {@code %d} the expert. Multimodal Llama 4 checkpoints prefix everything with
 * {@code language_model.} ({@link #prefixFor}).
 */
public enum HfTensorNames {
    // whole model
    TOKEN_EMBEDDING("model.embed_tokens.weight"),
    OUTPUT_NORM("model.norm.weight"),
    OUTPUT("lm_head.weight"),
    // every layer
    ATTN_NORM("model.layers.%d.input_layernorm.weight"),
    WQ("model.layers.%d.self_attn.q_proj.weight"),
    WK("model.layers.%d.self_attn.k_proj.weight"),
    WV("model.layers.%d.self_attn.v_proj.weight"),
    WO("model.layers.%d.self_attn.o_proj.weight"),
    FFN_NORM("model.layers.%d.post_attention_layernorm.weight"),
    // Llama / Mistral dense SwiGLU
    W1("model.layers.%d.mlp.gate_proj.weight"),
    W2("model.layers.%d.mlp.down_proj.weight"),
    W3("model.layers.%d.mlp.up_proj.weight"),
    // Mixtral sparse MoE: router and per-expert SwiGLU (HF keeps Mixtral's own w1/w2/w3 names)
    MOE_ROUTER("model.layers.%d.block_sparse_moe.gate.weight"),
    MOE_W1("model.layers.%d.block_sparse_moe.experts.%d.w1.weight"),
    MOE_W2("model.layers.%d.block_sparse_moe.experts.%d.w2.weight"),
    MOE_W3("model.layers.%d.block_sparse_moe.experts.%d.w3.weight"),
    // Llama 4 dense layers (intermediate_size_mlp)
    L4_W1("model.layers.%d.feed_forward.gate_proj.weight"),
    L4_W2("model.layers.%d.feed_forward.down_proj.weight"),
    L4_W3("model.layers.%d.feed_forward.up_proj.weight"),
    // Llama 4 MoE layers: router, experts stacked and stored input-major, shared expert
    L4_ROUTER("model.layers.%d.feed_forward.router.weight"),
    /** {@code [nExperts, dim, 2 * hidden]}: per expert, {@code x @ gate_up} gives gate (first half) then up. */
    L4_EXPERTS_GATE_UP("model.layers.%d.feed_forward.experts.gate_up_proj"),
    /** {@code [nExperts, hidden, dim]}: per expert, {@code h @ down}. */
    L4_EXPERTS_DOWN("model.layers.%d.feed_forward.experts.down_proj"),
    L4_SHARED_W1("model.layers.%d.feed_forward.shared_expert.gate_proj.weight"),
    L4_SHARED_W2("model.layers.%d.feed_forward.shared_expert.down_proj.weight"),
    L4_SHARED_W3("model.layers.%d.feed_forward.shared_expert.up_proj.weight");

    /** Prefix of the language model's tensors inside a multimodal Llama 4 checkpoint. */
    public static final String MULTIMODAL_PREFIX = "language_model.";

    private final String pattern;

    HfTensorNames(String pattern) {
        this.pattern = pattern;
    }

    public String pattern() {
        return pattern;
    }

    /** The name of a whole-model tensor. */
    public String global() {
        return pattern;
    }

    /** The name of this tensor in {@code layer}. */
    public String name(int layer) {
        return String.format(java.util.Locale.ROOT, pattern, layer);
    }

    /** The name of this tensor for {@code expert} of {@code layer}. */
    public String name(int layer, int expert) {
        return String.format(java.util.Locale.ROOT, pattern, layer, expert);
    }

    /** "" for a plain checkpoint, {@link #MULTIMODAL_PREFIX} when the tensors live under it. */
    public static String prefixFor(java.util.Set<String> names) {
        for (String n : names) {
            if (n.startsWith(MULTIMODAL_PREFIX + "model.")) return MULTIMODAL_PREFIX;
        }
        return "";
    }
}
