package dev.jllm.engine.bench;

import dev.jllm.gguf.GgmlType;

import java.util.Locale;

/**
 * The type of each weight matrix of a synthetic model, named like llama.cpp's file types: one {@link GgmlType} for
 * every matrix ({@code Q8_0}, {@code Q4_K} ...), or {@code Q4_K_M}, the mix users download most.
 */
public sealed interface WeightMix {

    /** The type of matrix {@code tensor} (a GGUF name such as {@code blk.3.ffn_down.weight}) in layer {@code layer}. */
    GgmlType typeOf(String tensor, int layer, Shapes shape);

    /** llama.cpp's {@code general.file_type} (LLAMA_FTYPE_*). */
    int fileType();

    String name();

    /** A single type or a mix by name: {@code Q8_0}, {@code q4_k_m} ... */
    static WeightMix named(String name) {
        String n = name.toUpperCase(Locale.ROOT);
        if (n.equals("Q4_K_M")) return new Q4KM();
        try {
            return new Uniform(GgmlType.valueOf(n));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown weight type '" + name
                    + "'; known: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K, Q4_K_M");
        }
    }

    /** Every matrix in one type. */
    record Uniform(GgmlType type) implements WeightMix {
        public Uniform {
            fileType(type); // rejects types the synthetic writer does not support
        }

        @Override
        public GgmlType typeOf(String tensor, int layer, Shapes shape) {
            return type;
        }

        @Override
        public int fileType() {
            return fileType(type);
        }

        @Override
        public String name() {
            return type.name();
        }

        /** llama.cpp's {@code general.file_type} for a file whose matrices are all {@code type}. */
        static int fileType(GgmlType type) {
            return switch (type) {
                case F32 -> 0;
                case F16 -> 1;
                case Q4_0 -> 2;
                case Q8_0 -> 7;
                case Q4_K -> 14; // MOSTLY_Q4_K_S (all matrices Q4_K)
                case Q6_K -> 18;
                case BF16 -> 32;
                default -> throw new IllegalArgumentException(
                        "synthetic models support F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K, Q4_K_M; got " + type);
            };
        }
    }

    /**
     * llama.cpp's LLAMA_FTYPE_MOSTLY_Q4_K_M as {@code llama_tensor_get_type} assigns it to a Llama-layout model: Q4_K
     * everywhere except Q6_K for the output projection (the token embedding when it is tied), and for {@code attn_v}
     * and {@code ffn_down} in the layers {@link #useMoreBits} picks (the first and last eighth, and every third in
     * between). Shapes with 8 experts get Q8_0/Q5_K attention there, which is not supported here.
     */
    record Q4KM() implements WeightMix {
        @Override
        public GgmlType typeOf(String tensor, int layer, Shapes shape) {
            if (shape.experts() == 8) {
                throw new IllegalArgumentException("Q4_K_M of an 8-expert shape (" + shape.name()
                        + ") uses Q5_K for attn_output, which is not supported");
            }
            boolean output = tensor.equals("output.weight") || (shape.tiedEmbeddings() && tensor.equals("token_embd.weight"));
            if (output) return GgmlType.Q6_K;
            if (tensor.contains("attn_v.weight") || tensor.contains("ffn_down")) {
                return useMoreBits(layer, shape.layers()) ? GgmlType.Q6_K : GgmlType.Q4_K;
            }
            return GgmlType.Q4_K;
        }

        /** llama.cpp's {@code use_more_bits(i_layer, n_layers)}. */
        static boolean useMoreBits(int layer, int layers) {
            return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
        }

        @Override
        public int fileType() {
            return 15; // LLAMA_FTYPE_MOSTLY_Q4_K_M
        }

        @Override
        public String name() {
            return "Q4_K_M";
        }
    }
}
