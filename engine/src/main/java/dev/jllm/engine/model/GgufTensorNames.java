package dev.jllm.engine.model;

/**
 * GGUF tensor names (llama.cpp's "llama" layout) for each weight, in the paper's terms. The only place
 * file-format names appear.
 */
public final class GgufTensorNames {
    private GgufTensorNames() {
    }

    public static final String TOKEN_EMBD = "token_embd.weight";   // [vocab][dim]
    public static final String OUTPUT_NORM = "output_norm.weight"; // [dim]
    public static final String OUTPUT = "output.weight";           // [vocab][dim]; absent when tied
    public static final String ROPE_FREQS = "rope_freqs.weight";   // [ropeDims / 2] frequency divisors

    /** Expert {@code e}'s 2-D tensor in older MoE files ({@code blk.L.ffn_gate.E.weight}). */
    public static String expert(Layer w, int layer, int e) {
        String n = w.of(layer);
        return n.substring(0, n.length() - ".weight".length()) + "." + e + ".weight";
    }

    /** Per-layer weights; {@link #of(int)} gives the name in layer {@code l}. */
    public enum Layer {
        ATTN_NORM("attn_norm"),
        WQ("attn_q"),
        WK("attn_k"),
        WV("attn_v"),
        WO("attn_output"),
        FFN_NORM("ffn_norm"),
        W1("ffn_gate"),
        W2("ffn_down"),
        W3("ffn_up"),
        ROUTER("ffn_gate_inp"),
        /** 3-D {@code [nExperts][hidden][dim]} (ne = dim, hidden, nExperts). */
        W1_EXPERTS("ffn_gate_exps"),
        W2_EXPERTS("ffn_down_exps"),
        W3_EXPERTS("ffn_up_exps");

        private final String stem;

        Layer(String stem) {
            this.stem = stem;
        }

        public String of(int layer) {
            return "blk." + layer + "." + stem + ".weight";
        }
    }
}
