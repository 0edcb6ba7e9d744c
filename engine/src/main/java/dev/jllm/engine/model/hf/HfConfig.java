package dev.jllm.engine.model.hf;

import dev.jllm.engine.model.LayerSpec;
import dev.jllm.engine.model.ModelConfig;
import dev.jllm.engine.model.RopeConfig;
import dev.jllm.engine.safetensors.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Reads a Hugging Face {@code config.json} into the engine's {@link ModelConfig}.
 *
 * <p>Families: {@code model_type} "llama", "mistral", "mixtral" (RoPE on half-split pairs, HF's
 * {@code rotate_half}) and "llama4_text" / "llama4" (text part only, {@code text_config} nesting allowed; RoPE on
 * adjacent pairs, HF's complex form). Both config spellings are accepted: {@code rope_theta} + {@code rope_scaling}
 * (hub files, transformers 4) and {@code rope_parameters} (transformers 5).
 *
 * <p>Field mapping: {@code hidden_size -> dim}, {@code num_hidden_layers -> nLayers},
 * {@code num_attention_heads -> nHeads}, {@code num_key_value_heads -> nKvHeads} (default: nHeads),
 * {@code head_dim -> headDim} (default: hidden / heads), {@code intermediate_size -> ffnDim} (Llama 4:
 * {@code intermediate_size_mlp} for dense layers, {@code intermediate_size} for experts and the shared expert),
 * {@code max_position_embeddings -> contextLength}, {@code rms_norm_eps -> normEps},
 * {@code tie_word_embeddings -> tiedEmbeddings} (default false), {@code sliding_window -> slidingWindow}
 * (null: none), {@code num_local_experts -> nExperts}, {@code num_experts_per_tok -> nExpertsUsed}; Llama 4:
 * {@code moe_layers} (default: every {@code interleave_moe_layer_step}-th layer), {@code no_rope_layers} (1 =
 * RoPE, 0 = NoPE; default: every {@code no_rope_layer_interval}-th layer is NoPE), {@code layer_types} (default:
 * chunked on RoPE layers, full on NoPE layers), {@code attention_chunk_size}, {@code use_qk_norm},
 * {@code attn_temperature_tuning} + {@code attn_scale} + {@code floor_scale}.
 */
public final class HfConfig {
    public static final String FILE = "config.json";

    private final Map<?, ?> json;
    private final String source;

    private HfConfig(Map<?, ?> json, String source) {
        this.json = json;
        this.source = source;
    }

    /** Reads {@code dir/config.json}. */
    public static ModelConfig read(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) throw new IOException("no " + FILE + " in " + dir);
        return parse(Files.readString(file), file.toString());
    }

    /** Parses config.json text; {@code source} names it in errors. */
    public static ModelConfig parse(String text, String source) {
        Object root;
        try {
            root = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
        if (!(root instanceof Map<?, ?> m)) throw new IllegalArgumentException(source + ": not a JSON object");
        if (m.get("text_config") instanceof Map<?, ?> textConfig && !m.containsKey("hidden_size")) {
            m = textConfig; // multimodal wrapper (Llama4ForConditionalGeneration): the language model's config
            source = source + " (text_config)";
        }
        return new HfConfig(m, source).toModelConfig();
    }

    /** Engine architecture name for a HF {@code model_type}; an unknown one is an error naming it. */
    static String architecture(String modelType, String source) {
        return switch (modelType) {
            case "llama" -> "llama";
            case "mistral" -> "mistral";
            case "mixtral" -> "mixtral";
            case "llama4_text", "llama4" -> "llama4";
            default -> throw new IllegalArgumentException(source + ": model_type '" + modelType
                    + "' is not supported (llama, mistral, mixtral, llama4_text)");
        };
    }

    private ModelConfig toModelConfig() {
        String arch = architecture(string("model_type"), source);
        for (String bias : new String[] {"attention_bias", "mlp_bias"}) {
            if (optBoolean(bias, false)) {
                throw new IllegalArgumentException(source + ": '" + bias + "' is true; the engine's blocks have no biases");
            }
        }
        String act = json.get("hidden_act") instanceof String a ? a : "silu";
        if (!act.equals("silu")) {
            throw new IllegalArgumentException(source + ": hidden_act '" + act + "' is not supported (silu)");
        }
        boolean llama4 = arch.equals("llama4");
        int dim = integer("hidden_size");
        int nLayers = integer("num_hidden_layers");
        int nHeads = integer("num_attention_heads");
        int nKvHeads = optInteger("num_key_value_heads", nHeads);
        int headDim = optInteger("head_dim", dim / nHeads);
        int intermediate = integer("intermediate_size");
        int ffnDim = llama4 ? optInteger("intermediate_size_mlp", intermediate) : intermediate;
        int nExperts = optInteger("num_local_experts", 0);
        int nExpertsUsed = nExperts > 0 ? optInteger("num_experts_per_tok", llama4 ? 1 : 2) : 0;
        int window = optInteger("sliding_window", 0);
        int chunk = llama4 ? optInteger("attention_chunk_size", 0) : 0;

        ModelConfig.Builder b = ModelConfig.builder()
                .architecture(arch)
                .dim(dim)
                .nLayers(nLayers)
                .nHeads(nHeads)
                .nKvHeads(nKvHeads)
                .headDim(headDim)
                .ffnDim(ffnDim)
                .vocabSize(integer("vocab_size"))
                .contextLength(optInteger("max_position_embeddings", 2048))
                .normEps((float) optNumber("rms_norm_eps", 1e-6))
                .rope(rope(headDim, llama4 ? RopeConfig.Style.ADJACENT : RopeConfig.Style.HALF_SPLIT))
                .tiedEmbeddings(optBoolean("tie_word_embeddings", false))
                .slidingWindow(llama4 ? 0 : window)
                .nExperts(nExperts)
                .nExpertsUsed(nExpertsUsed)
                .expertFfnDim(intermediate)
                .bosId(tokenId("bos_token_id"))
                .eosId(tokenId("eos_token_id"));
        if (llama4) {
            b.attentionChunk(chunk)
                    .qkNorm(optBoolean("use_qk_norm", true))
                    .attnTemperature(flag("attn_temperature_tuning", true) ? (float) optNumber("attn_scale", 0.1) : 0f)
                    .attnFloorScale((float) optNumber("floor_scale", 8192))
                    .layers(llama4Layers(nLayers, chunk, nExperts));
        } else {
            LayerSpec.FfnKind ffn = nExperts > 0 ? LayerSpec.FfnKind.MOE : LayerSpec.FfnKind.DENSE;
            LayerSpec layer = window > 0
                    ? new LayerSpec(LayerSpec.AttentionKind.SLIDING, window, true, ffn)
                    : new LayerSpec(LayerSpec.AttentionKind.GLOBAL, 0, true, ffn);
            b.layers(java.util.Collections.nCopies(nLayers, layer));
        }
        return b.build();
    }

    /** Per-layer kinds of a Llama 4 text model (see the class comment for the defaults, as in transformers). */
    private List<LayerSpec> llama4Layers(int nLayers, int chunk, int nExperts) {
        int[] useRope = optIntList("no_rope_layers");
        if (useRope == null || useRope.length == 0) {
            int interval = optInteger("no_rope_layer_interval", 4);
            useRope = new int[nLayers];
            for (int i = 0; i < nLayers; i++) useRope[i] = (i + 1) % interval != 0 ? 1 : 0;
        }
        if (useRope.length != nLayers) {
            throw new IllegalArgumentException(source + ": no_rope_layers has " + useRope.length + " entries for "
                    + nLayers + " layers");
        }
        boolean[] moe = new boolean[nLayers];
        int[] moeLayers = optIntList("moe_layers");
        if (moeLayers == null) {
            int step = optInteger("interleave_moe_layer_step", 1);
            if (step <= 0) throw new IllegalArgumentException(source + ": interleave_moe_layer_step must be > 0");
            for (int i = step - 1; i < nLayers; i += step) moe[i] = true;
        } else {
            for (int i : moeLayers) {
                if (i < 0 || i >= nLayers) {
                    throw new IllegalArgumentException(source + ": moe_layers names layer " + i + " of " + nLayers);
                }
                moe[i] = true;
            }
        }
        List<?> types = json.get("layer_types") instanceof List<?> l ? l : null;
        if (types != null && types.size() != nLayers) {
            throw new IllegalArgumentException(source + ": layer_types has " + types.size() + " entries for " + nLayers + " layers");
        }
        List<LayerSpec> layers = new ArrayList<>();
        for (int i = 0; i < nLayers; i++) {
            boolean rope = useRope[i] != 0;
            boolean chunked;
            if (types != null) {
                chunked = switch (String.valueOf(types.get(i))) {
                    case "chunked_attention" -> true;
                    case "full_attention" -> false;
                    default -> throw new IllegalArgumentException(source + ": layer_types[" + i + "] = '"
                            + types.get(i) + "' (expected chunked_attention or full_attention)");
                };
            } else {
                chunked = rope;
            }
            if (chunked && chunk <= 0) chunked = false; // no chunk size: plain causal attention
            if (moe[i] && nExperts <= 0) {
                throw new IllegalArgumentException(source + ": layer " + i + " is an MoE layer but num_local_experts is "
                        + nExperts);
            }
            layers.add(new LayerSpec(chunked ? LayerSpec.AttentionKind.CHUNKED : LayerSpec.AttentionKind.GLOBAL,
                    chunked ? chunk : 0, rope, moe[i] ? LayerSpec.FfnKind.MOE_SHARED : LayerSpec.FfnKind.DENSE));
        }
        return layers;
    }

    /**
     * RoPE base and scaling from {@code rope_parameters} (transformers 5) or {@code rope_theta} + {@code rope_scaling}.
     * Scaling types: none/"default", "llama3", and "linear" (expressed as a uniform frequency divisor).
     */
    private RopeConfig rope(int headDim, RopeConfig.Style style) {
        Map<?, ?> params = json.get("rope_parameters") instanceof Map<?, ?> p ? p : null;
        Map<?, ?> scaling = params != null ? params : json.get("rope_scaling") instanceof Map<?, ?> s ? s : null;
        double theta = params != null && params.get("rope_theta") instanceof Number t ? t.doubleValue()
                : optNumber("rope_theta", 10000);
        double partial = optNumber("partial_rotary_factor", 1.0);
        int dims = (int) (headDim * partial);
        RopeConfig.Scaling sc = RopeConfig.Scaling.NONE;
        if (scaling != null) {
            Object typeObj = scaling.get("rope_type") != null ? scaling.get("rope_type") : scaling.get("type");
            String type = typeObj == null ? "default" : typeObj.toString();
            switch (type) {
                case "default" -> { }
                case "llama3" -> sc = RopeConfig.Scaling.llama3(
                        num(scaling, "factor"), num(scaling, "low_freq_factor"), num(scaling, "high_freq_factor"),
                        (int) num(scaling, "original_max_position_embeddings"));
                case "linear" -> {
                    float[] f = new float[dims / 2];
                    Arrays.fill(f, (float) num(scaling, "factor"));
                    sc = RopeConfig.Scaling.freqFactors(f);
                }
                default -> throw new IllegalArgumentException(source + ": rope scaling type '" + type
                        + "' is not supported (default, linear, llama3)");
            }
        }
        return new RopeConfig(theta, dims, style, sc);
    }

    private double num(Map<?, ?> m, String key) {
        if (!(m.get(key) instanceof Number n)) {
            throw new IllegalArgumentException(source + ": rope scaling needs a number '" + key + "'");
        }
        return n.doubleValue();
    }

    // ---- typed field access with errors naming the field ---------------------------------------------------

    private String string(String key) {
        if (!(json.get(key) instanceof String s)) throw new IllegalArgumentException(source + ": missing string '" + key + "'");
        return s;
    }

    private int integer(String key) {
        Object v = json.get(key);
        if (v == null) throw new IllegalArgumentException(source + ": missing '" + key + "'");
        return toInt(key, v);
    }

    private int optInteger(String key, int dflt) {
        Object v = json.get(key);
        return v == null ? dflt : toInt(key, v);
    }

    private int toInt(String key, Object v) {
        if (v instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) return (int) (long) l;
        if (v instanceof Double d && d == Math.rint(d) && Math.abs(d) <= Integer.MAX_VALUE) return (int) (double) d;
        throw new IllegalArgumentException(source + ": '" + key + "' must be an integer, got " + v);
    }

    private double optNumber(String key, double dflt) {
        Object v = json.get(key);
        if (v == null) return dflt;
        if (!(v instanceof Number n)) throw new IllegalArgumentException(source + ": '" + key + "' must be a number, got " + v);
        return n.doubleValue();
    }

    private boolean optBoolean(String key, boolean dflt) {
        Object v = json.get(key);
        if (v == null) return dflt;
        if (!(v instanceof Boolean b)) throw new IllegalArgumentException(source + ": '" + key + "' must be true or false, got " + v);
        return b;
    }

    /** A boolean that older configs wrote as a number (Llama 4's {@code "attn_temperature_tuning": 4}): non-zero = on. */
    private boolean flag(String key, boolean dflt) {
        return json.get(key) instanceof Number n ? n.doubleValue() != 0 : optBoolean(key, dflt);
    }

    private int[] optIntList(String key) {
        Object v = json.get(key);
        if (v == null) return null;
        if (!(v instanceof List<?> l)) throw new IllegalArgumentException(source + ": '" + key + "' must be a list");
        int[] out = new int[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = toInt(key + "[" + i + "]", l.get(i));
        return out;
    }

    /** A token id field that may be missing, null, an integer or a list of integers (first one taken). */
    private int tokenId(String key) {
        Object v = json.get(key);
        if (v instanceof List<?> l) v = l.isEmpty() ? null : l.get(0);
        return v == null ? -1 : toInt(key, v);
    }
}
