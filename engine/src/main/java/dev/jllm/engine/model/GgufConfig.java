package dev.jllm.engine.model;

import dev.jllm.gguf.GgufException;
import dev.jllm.gguf.GgufFile;
import dev.jllm.gguf.TensorInfo;

import java.util.Set;

/** Reads a {@link ModelConfig} from a GGUF file's metadata ({@code <arch>.*} keys, llama.cpp's names). */
public final class GgufConfig {
    /** Architectures whose GGUF layout is llama.cpp's "llama" one (Mistral and Mixtral convert to "llama"). */
    static final Set<String> LLAMA_LIKE = Set.of("llama", "mistral", "mixtral");

    private GgufConfig() {
    }

    public static ModelConfig read(GgufFile f) {
        String arch = f.getString("general.architecture");
        if (!LLAMA_LIKE.contains(arch)) {
            throw new GgufException(f.path() + ": architecture '" + arch + "' is not supported (supported: " + LLAMA_LIKE + ")");
        }
        String p = arch + ".";
        int dim = intKey(f, p + "embedding_length");
        int nHeads = intKey(f, p + "attention.head_count");
        int nKvHeads = (int) f.findLong(p + "attention.head_count_kv").orElse(nHeads);
        int headDim = (int) f.findLong(p + "attention.key_length").orElse(dim / nHeads);
        TensorInfo emb = f.tensor(GgufTensorNames.TOKEN_EMBD);
        int vocab = (int) f.findLong(p + "vocab_size").orElse(emb.dim(1));
        int nExperts = (int) f.findLong(p + "expert_count").orElse(0);
        int ropeDims = (int) f.findLong(p + "rope.dimension_count").orElse(headDim);

        RopeConfig.Scaling scaling = RopeConfig.Scaling.NONE;
        var freqs = f.findTensor(GgufTensorNames.ROPE_FREQS);
        String scalingType = f.findString(p + "rope.scaling.type").orElse("none");
        if (freqs.isPresent()) {
            TensorInfo t = freqs.get();
            if (t.elementCount() != ropeDims / 2) {
                throw new GgufException(f.path() + ": tensor '" + t.name() + "' has " + t.elementCount()
                        + " values, RoPE needs " + ropeDims / 2);
            }
            scaling = RopeConfig.Scaling.freqFactors(GgufModelLoader.floats(f, t));
        } else if (scalingType.equals("linear")) {
            scaling = new RopeConfig.Scaling("linear", f.getDouble(p + "rope.scaling.factor"), 1, 1, 0, null);
        } else if (!scalingType.equals("none")) {
            throw new GgufException(f.path() + ": '" + p + "rope.scaling.type' = '" + scalingType + "' is not supported");
        }
        RopeConfig rope = new RopeConfig(f.findDouble(p + "rope.freq_base").orElse(10000.0), ropeDims,
                RopeConfig.Style.ADJACENT, scaling);

        return ModelConfig.builder()
                .architecture(arch)
                .dim(dim)
                .nLayers(intKey(f, p + "block_count"))
                .nHeads(nHeads)
                .nKvHeads(nKvHeads)
                .headDim(headDim)
                .ffnDim(intKey(f, p + "feed_forward_length"))
                .vocabSize(vocab)
                .contextLength((int) f.findLong(p + "context_length").orElse(2048))
                .normEps((float) f.findDouble(p + "attention.layer_norm_rms_epsilon").orElse(1e-5))
                .rope(rope)
                .tiedEmbeddings(f.findTensor(GgufTensorNames.OUTPUT).isEmpty())
                .slidingWindow((int) f.findLong(p + "attention.sliding_window").orElse(0))
                .nExperts(nExperts)
                .nExpertsUsed((int) f.findLong(p + "expert_used_count").orElse(0))
                .bosId((int) f.findLong("tokenizer.ggml.bos_token_id").orElse(-1))
                .eosId((int) f.findLong("tokenizer.ggml.eos_token_id").orElse(-1))
                .build();
    }

    private static int intKey(GgufFile f, String key) {
        long v = f.getLong(key);
        if (v <= 0 || v > Integer.MAX_VALUE) throw new GgufException(f.path() + ": metadata key '" + key + "' = " + v + " is out of range");
        return (int) v;
    }
}
