package dev.jllm.engine.model.hf;

import static dev.jllm.engine.model.hf.HfTensorNames.*;

import dev.jllm.engine.LoadOptions;
import dev.jllm.engine.llama.AttentionBlock;
import dev.jllm.engine.llama.FeedForwardBlock;
import dev.jllm.engine.llama.Layer;
import dev.jllm.engine.llama.Rope;
import dev.jllm.engine.llama.SelfAttention;
import dev.jllm.engine.llama.SparseMoeFfn;
import dev.jllm.engine.llama.SwiGluFfn;
import dev.jllm.engine.llama.Transformer;
import dev.jllm.engine.llama4.Llama4Attention;
import dev.jllm.engine.llama4.Llama4MoeFfn;
import dev.jllm.engine.model.LayerSpec;
import dev.jllm.engine.model.ModelConfig;
import dev.jllm.engine.safetensors.SafetensorsModel;
import dev.jllm.engine.tensor.MatOps;
import dev.jllm.engine.tensor.WeightMatrix;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a CPU {@link Transformer} from a Hugging Face model folder ({@code config.json} + safetensors): the config
 * through {@link HfConfig}, the weights through the {@link HfTensorNames} table, the blocks per layer kind
 * (Llama/Mistral/Mixtral: {@link SelfAttention} with half-split RoPE, {@link SwiGluFfn}, {@link SparseMoeFfn};
 * Llama 4: {@link Llama4Attention}, {@link SwiGluFfn} with {@code intermediate_size_mlp}, {@link Llama4MoeFfn}).
 * HF checkpoints keep q/k in the half-split RoPE order, so nothing is permuted; only Llama 4's stacked
 * input-major experts are transposed (once, off-heap).
 */
public final class HfModelLoader {
    /** Tokens per prefill pass when neither the options nor a sliding window say otherwise. */
    public static final int DEFAULT_PREFILL_CHUNK = 512;

    private HfModelLoader() {
    }

    public static Transformer load(Path dir, LoadOptions options) throws IOException {
        ModelConfig config = HfConfig.read(dir);
        if (options.slidingWindow() != null) {
            if (config.architecture().equals("llama4")) {
                throw new IllegalArgumentException("a sliding window override does not apply to Llama 4 (chunked attention)");
            }
            config = config.withSlidingWindow(options.slidingWindow());
        }
        if (options.contextLength() > 0) config = config.withContextLength(options.contextLength());
        if (options.threads() > 0) MatOps.setThreads(options.threads());
        SafetensorsModel st = SafetensorsModel.open(dir);
        Arena scratch = Arena.ofShared();
        try {
            return build(config, st, scratch, options);
        } catch (RuntimeException e) {
            scratch.close();
            st.close();
            throw e;
        }
    }

    private static Transformer build(ModelConfig c, SafetensorsModel st, Arena scratch, LoadOptions options) {
        HfWeights w = new HfWeights(st, scratch, options.referenceKernels());
        int dim = c.dim(), vocab = c.vocabSize();
        // tied checkpoints may hold either name (TinyStories-656K keeps only lm_head.weight)
        String embName = w.has(TOKEN_EMBEDDING.global()) || !c.tiedEmbeddings() ? TOKEN_EMBEDDING.global() : OUTPUT.global();
        String outName = w.has(OUTPUT.global()) ? OUTPUT.global() : TOKEN_EMBEDDING.global();
        if (!c.tiedEmbeddings() && !w.has(OUTPUT.global())) {
            throw new IllegalArgumentException("tensor '" + OUTPUT.global() + "' not found in " + st.dir()
                    + " and config.json says tie_word_embeddings is false");
        }
        if (c.tiedEmbeddings()) {
            outName = embName;
            w.ignore(OUTPUT.global()); // tied: a stored lm_head.weight is a copy of the embedding
        }
        WeightMatrix embedding = w.matrix(embName, vocab, dim);
        WeightMatrix output = outName.equals(embName) ? embedding : w.matrix(outName, vocab, dim);
        float[] outputNorm = w.vector(OUTPUT_NORM.global(), dim);

        Rope rope = new Rope(c.rope());
        boolean llama4 = c.architecture().equals("llama4");
        List<Layer> layers = new ArrayList<>();
        for (int l = 0; l < c.nLayers(); l++) {
            LayerSpec spec = c.layer(l);
            WeightMatrix wq = w.matrix(WQ.name(l), c.qDim(), dim);
            WeightMatrix wk = w.matrix(WK.name(l), c.kvDim(), dim);
            WeightMatrix wv = w.matrix(WV.name(l), c.kvDim(), dim);
            WeightMatrix wo = w.matrix(WO.name(l), dim, c.qDim());
            AttentionBlock attention = llama4
                    ? new Llama4Attention(c, spec, rope, wq, wk, wv, wo)
                    : new SelfAttention(c, spec, rope, wq, wk, wv, wo);
            FeedForwardBlock ffn = switch (spec.ffn()) {
                case DENSE -> llama4
                        ? swiglu(w, L4_W1.name(l), L4_W2.name(l), L4_W3.name(l), c.ffnDim(), dim)
                        : swiglu(w, W1.name(l), W2.name(l), W3.name(l), c.ffnDim(), dim);
                case MOE -> mixtralMoe(w, c, l);
                case MOE_SHARED -> llama4Moe(w, c, l);
            };
            layers.add(new Layer(w.vector(ATTN_NORM.name(l), dim), attention, w.vector(FFN_NORM.name(l), dim), ffn));
        }
        List<String> unused = w.unused();
        if (!unused.isEmpty()) {
            throw new IllegalArgumentException(st.dir() + " holds " + unused.size() + " tensor(s) this " + c.architecture()
                    + " model does not use, e.g. '" + unused.get(0) + "'" + (unused.size() > 1 ? ", '" + unused.get(1) + "'" : "")
                    + ": an architecture variant (biases?) the engine does not implement");
        }
        int chunk = options.prefillChunk() > 0 ? options.prefillChunk()
                : c.slidingWindow() > 0 ? c.slidingWindow() : DEFAULT_PREFILL_CHUNK;
        AutoCloseable resources = () -> {
            scratch.close();
            st.close();
        };
        // bytes read per token: every matrix once, but of the embedding only one row (unless it is also the output)
        long embBytes = w.tensor(embName).data().byteSize();
        long perToken = w.bytes() + embBytes / vocab - (c.tiedEmbeddings() ? 0 : embBytes);
        return new Transformer(c, embedding, layers, outputNorm, output, chunk, perToken, resources);
    }

    private static SwiGluFfn swiglu(HfWeights w, String w1, String w2, String w3, int hidden, int dim) {
        return new SwiGluFfn(w.matrix(w1, hidden, dim), w.matrix(w2, dim, hidden), w.matrix(w3, hidden, dim));
    }

    private static SparseMoeFfn mixtralMoe(HfWeights w, ModelConfig c, int l) {
        int dim = c.dim(), hidden = c.expertFfnDim();
        SwiGluFfn[] experts = new SwiGluFfn[c.nExperts()];
        for (int e = 0; e < experts.length; e++) {
            experts[e] = swiglu(w, MOE_W1.name(l, e), MOE_W2.name(l, e), MOE_W3.name(l, e), hidden, dim);
        }
        return new SparseMoeFfn(w.matrix(MOE_ROUTER.name(l), c.nExperts(), dim), experts, c.nExpertsUsed());
    }

    private static Llama4MoeFfn llama4Moe(HfWeights w, ModelConfig c, int l) {
        int dim = c.dim(), hidden = c.expertFfnDim(), nExperts = c.nExperts();
        SwiGluFfn[] experts = new SwiGluFfn[nExperts];
        String gateUp = L4_EXPERTS_GATE_UP.name(l), down = L4_EXPERTS_DOWN.name(l);
        for (int e = 0; e < nExperts; e++) {
            WeightMatrix w1 = w.expertTransposed(gateUp, nExperts, dim, 2 * hidden, e, 0, hidden);       // [hidden, dim]
            WeightMatrix w3 = w.expertTransposed(gateUp, nExperts, dim, 2 * hidden, e, hidden, hidden);  // [hidden, dim]
            WeightMatrix w2 = w.expertTransposed(down, nExperts, hidden, dim, e, 0, dim);                // [dim, hidden]
            experts[e] = new SwiGluFfn(w1, w2, w3);
        }
        SwiGluFfn shared = swiglu(w, L4_SHARED_W1.name(l), L4_SHARED_W2.name(l), L4_SHARED_W3.name(l), hidden, dim);
        return new Llama4MoeFfn(w.matrix(L4_ROUTER.name(l), nExperts, dim), experts, shared, c.nExpertsUsed());
    }
}
