package dev.jllm.engine;

import dev.jllm.engine.kv.KvCache;
import dev.jllm.engine.kv.KvCacheOptions;
import dev.jllm.engine.model.ModelConfig;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * A loaded model: the forward pass over any number of sequences at once, each with its own KV cache.
 * Thread-safety: one {@link #forward} at a time per model (calls are serialized); caches belong to their
 * caller.
 */
public interface LanguageModel extends AutoCloseable {
    ModelConfig config();

    /** The backend running this model ("cpu", "cuda", ...). */
    String backend();

    /** An empty KV cache for one sequence. */
    KvCache newCache(KvCacheOptions options);

    default KvCache newCache() {
        return newCache(KvCacheOptions.DEFAULT);
    }

    /**
     * One pass over several sequences packed together (block-diagonal causal mask: each chunk sees only its
     * own cache and its own earlier tokens, at its own positions). Each chunk's cache is advanced by its tokens.
     * Long chunks are processed in rounds of at most the model's prefill chunk size.
     *
     * @return per chunk, in order: {@code [vocab]} logits after its last token if it asked, else null
     */
    float[][] forward(List<SequenceChunk> chunks);

    /** Logits after one sequence's {@code tokens} (advancing its cache). */
    default float[] forward(KvCache cache, int... tokens) {
        return forward(List.of(new SequenceChunk(cache, tokens, true)))[0];
    }

    /**
     * Runs {@code tokens} through {@code cache} and returns the logits at every position,
     * {@code [tokens.length][vocab]} (teacher forcing, the {@code logits} command).
     */
    float[][] forwardAll(KvCache cache, int[] tokens);

    /** Restores a cache written by {@link KvCache#writeTo}, checking that its shape fits this model. */
    default KvCache readCache(InputStream in) throws IOException {
        KvCache c = KvCache.readFrom(in);
        ModelConfig cfg = config();
        if (c.layers() != cfg.nLayers() || c.kvDim() != cfg.kvDim() || c.headDim() != cfg.headDim()) {
            throw new IOException("KV cache shape (" + c.layers() + " layers x " + c.kvDim() + ") does not fit this model ("
                    + cfg.nLayers() + " layers x " + cfg.kvDim() + ")");
        }
        for (int l = 0; l < cfg.nLayers(); l++) {
            if (c.capacity(l) != cfg.layer(l).cacheCapacity(c.maxContext())) {
                throw new IOException("KV cache layer " + l + " has " + c.capacity(l) + " slots, this model needs "
                        + cfg.layer(l).cacheCapacity(c.maxContext()));
            }
        }
        return c;
    }

    /**
     * Bytes of weights one decode step of one sequence reads: every matrix, one embedding row, and for MoE layers
     * only the experts a token uses (the bandwidth bound of decoding).
     */
    long weightBytes();

    @Override
    void close();
}
