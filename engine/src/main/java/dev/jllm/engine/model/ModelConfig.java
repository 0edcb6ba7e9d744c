package dev.jllm.engine.model;

import java.util.List;
import java.util.Objects;

/**
 * Everything about a model's shape that the forward pass needs; one immutable record per model, read from
 * a GGUF file's metadata ({@link GgufConfig}) or a Hugging Face {@code config.json}.
 *
 * @param architecture     family name as the file states it ("llama", "mistral", "mixtral", "llama4", ...)
 * @param dim              model width ({@code hidden_size}, {@code embedding_length})
 * @param nLayers          transformer layers
 * @param nHeads           query heads
 * @param nKvHeads         key/value heads (GQA: query head {@code h} reads KV head {@code h / (nHeads / nKvHeads)})
 * @param headDim          size of one head
 * @param ffnDim           hidden size of a dense SwiGLU layer
 * @param vocabSize        vocabulary size (rows of the embedding and the output matrix)
 * @param contextLength    longest context the model was trained for (the default cache size)
 * @param normEps          RMSNorm epsilon
 * @param rope             rotary embedding settings
 * @param tiedEmbeddings   whether the output matrix is the token embedding
 * @param slidingWindow    Mistral's attention window, 0 for none
 * @param nExperts         experts per MoE layer (0 for a dense model)
 * @param nExpertsUsed     experts each token is routed to
 * @param expertFfnDim     hidden size of one expert (and of Llama 4's shared expert)
 * @param attentionChunk   Llama 4's attention chunk size for chunked layers (0: none)
 * @param qkNorm           Llama 4: weightless L2 norm of q and k after RoPE on RoPE layers
 * @param attnTemperature  Llama 4 attention temperature tuning on NoPE layers: {@code attn_scale}, 0 for off
 * @param attnFloorScale   Llama 4 {@code floor_scale}
 * @param layers           per-layer attention / RoPE / FFN kind, {@code nLayers} entries
 * @param bosId            beginning-of-sequence token id, -1 if unknown
 * @param eosId            end-of-sequence token id, -1 if unknown
 */
public record ModelConfig(
        String architecture,
        int dim,
        int nLayers,
        int nHeads,
        int nKvHeads,
        int headDim,
        int ffnDim,
        int vocabSize,
        int contextLength,
        float normEps,
        RopeConfig rope,
        boolean tiedEmbeddings,
        int slidingWindow,
        int nExperts,
        int nExpertsUsed,
        int expertFfnDim,
        int attentionChunk,
        boolean qkNorm,
        float attnTemperature,
        float attnFloorScale,
        List<LayerSpec> layers,
        int bosId,
        int eosId) {

    public ModelConfig {
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(rope, "rope");
        layers = List.copyOf(layers);
        positive("dim", dim);
        positive("nLayers", nLayers);
        positive("nHeads", nHeads);
        positive("nKvHeads", nKvHeads);
        positive("headDim", headDim);
        positive("vocabSize", vocabSize);
        positive("contextLength", contextLength);
        if (nHeads % nKvHeads != 0) {
            throw new IllegalArgumentException("heads (" + nHeads + ") must be a multiple of KV heads (" + nKvHeads + ")");
        }
        if (layers.size() != nLayers) {
            throw new IllegalArgumentException(nLayers + " layers but " + layers.size() + " layer specs");
        }
        if (rope.dims() > headDim || rope.dims() % 2 != 0) {
            throw new IllegalArgumentException("RoPE dimensions " + rope.dims() + " vs head size " + headDim);
        }
        if (nExperts > 0 && (nExpertsUsed <= 0 || nExpertsUsed > nExperts)) {
            throw new IllegalArgumentException("experts used " + nExpertsUsed + " of " + nExperts);
        }
        if (!(normEps > 0)) throw new IllegalArgumentException("norm epsilon must be > 0, got " + normEps);
    }

    private static void positive(String name, int v) {
        if (v <= 0) throw new IllegalArgumentException(name + " must be > 0, got " + v);
    }

    /** Query heads sharing one KV head. */
    public int groupSize() {
        return nHeads / nKvHeads;
    }

    /** {@code nHeads * headDim}. */
    public int qDim() {
        return nHeads * headDim;
    }

    /** {@code nKvHeads * headDim}: the width of one position's key (and value) in a KV cache. */
    public int kvDim() {
        return nKvHeads * headDim;
    }

    public LayerSpec layer(int i) {
        return layers.get(i);
    }

    /** The same config with a Mistral sliding window on every layer (0: none). */
    public ModelConfig withSlidingWindow(int window) {
        List<LayerSpec> ls = layers.stream()
                .map(l -> l.attention() == LayerSpec.AttentionKind.CHUNKED ? l
                        : new LayerSpec(window > 0 ? LayerSpec.AttentionKind.SLIDING : LayerSpec.AttentionKind.GLOBAL,
                                window, l.rope(), l.ffn()))
                .toList();
        return toBuilder().slidingWindow(window).layers(ls).build();
    }

    public ModelConfig withContextLength(int ctx) {
        return toBuilder().contextLength(ctx).build();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.architecture = architecture; b.dim = dim; b.nLayers = nLayers; b.nHeads = nHeads; b.nKvHeads = nKvHeads;
        b.headDim = headDim; b.ffnDim = ffnDim; b.vocabSize = vocabSize; b.contextLength = contextLength;
        b.normEps = normEps; b.rope = rope; b.tiedEmbeddings = tiedEmbeddings; b.slidingWindow = slidingWindow;
        b.nExperts = nExperts; b.nExpertsUsed = nExpertsUsed; b.expertFfnDim = expertFfnDim;
        b.attentionChunk = attentionChunk; b.qkNorm = qkNorm; b.attnTemperature = attnTemperature;
        b.attnFloorScale = attnFloorScale; b.layers = layers; b.bosId = bosId; b.eosId = eosId;
        return b;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder; {@link #build} fills uniform {@link LayerSpec}s when none were given. */
    public static final class Builder {
        private String architecture = "llama";
        private int dim, nLayers, nHeads, nKvHeads, headDim, ffnDim, vocabSize, contextLength = 2048;
        private float normEps = 1e-5f;
        private RopeConfig rope;
        private boolean tiedEmbeddings;
        private int slidingWindow, nExperts, nExpertsUsed, expertFfnDim, attentionChunk;
        private boolean qkNorm;
        private float attnTemperature, attnFloorScale;
        private List<LayerSpec> layers;
        private int bosId = -1, eosId = -1;

        public Builder architecture(String v) { architecture = v; return this; }
        public Builder dim(int v) { dim = v; return this; }
        public Builder nLayers(int v) { nLayers = v; return this; }
        public Builder nHeads(int v) { nHeads = v; return this; }
        public Builder nKvHeads(int v) { nKvHeads = v; return this; }
        public Builder headDim(int v) { headDim = v; return this; }
        public Builder ffnDim(int v) { ffnDim = v; return this; }
        public Builder vocabSize(int v) { vocabSize = v; return this; }
        public Builder contextLength(int v) { contextLength = v; return this; }
        public Builder normEps(float v) { normEps = v; return this; }
        public Builder rope(RopeConfig v) { rope = v; return this; }
        public Builder tiedEmbeddings(boolean v) { tiedEmbeddings = v; return this; }
        public Builder slidingWindow(int v) { slidingWindow = v; return this; }
        public Builder nExperts(int v) { nExperts = v; return this; }
        public Builder nExpertsUsed(int v) { nExpertsUsed = v; return this; }
        public Builder expertFfnDim(int v) { expertFfnDim = v; return this; }
        public Builder attentionChunk(int v) { attentionChunk = v; return this; }
        public Builder qkNorm(boolean v) { qkNorm = v; return this; }
        public Builder attnTemperature(float v) { attnTemperature = v; return this; }
        public Builder attnFloorScale(float v) { attnFloorScale = v; return this; }
        public Builder layers(List<LayerSpec> v) { layers = v; return this; }
        public Builder bosId(int v) { bosId = v; return this; }
        public Builder eosId(int v) { eosId = v; return this; }

        public ModelConfig build() {
            if (headDim == 0 && nHeads > 0) headDim = dim / nHeads;
            if (nKvHeads == 0) nKvHeads = nHeads;
            if (rope == null) rope = new RopeConfig(10000, headDim, RopeConfig.Style.ADJACENT, RopeConfig.Scaling.NONE);
            if (expertFfnDim == 0) expertFfnDim = ffnDim;
            List<LayerSpec> ls = layers;
            if (ls == null) {
                LayerSpec.FfnKind ffn = nExperts > 0 ? LayerSpec.FfnKind.MOE : LayerSpec.FfnKind.DENSE;
                LayerSpec one = slidingWindow > 0
                        ? new LayerSpec(LayerSpec.AttentionKind.SLIDING, slidingWindow, true, ffn)
                        : new LayerSpec(LayerSpec.AttentionKind.GLOBAL, 0, true, ffn);
                ls = java.util.Collections.nCopies(nLayers, one);
            }
            return new ModelConfig(architecture, dim, nLayers, nHeads, nKvHeads, headDim, ffnDim, vocabSize,
                    contextLength, normEps, rope, tiedEmbeddings, slidingWindow, nExperts, nExpertsUsed, expertFfnDim,
                    attentionChunk, qkNorm, attnTemperature, attnFloorScale, ls, bosId, eosId);
        }
    }
}
