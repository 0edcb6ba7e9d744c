package dev.jllm.engine;

import dev.jllm.engine.kv.KvCache;

import java.util.Objects;

/**
 * The next tokens of one sequence for a {@link LanguageModel#forward} pass: they continue {@code cache} at
 * position {@code cache.length()}.
 *
 * @param cache      the sequence's KV cache (one chunk per cache in a pass)
 * @param tokens     token ids, at least one
 * @param wantLogits whether to return the logits after the last of these tokens
 */
public record SequenceChunk(KvCache cache, int[] tokens, boolean wantLogits) {
    public SequenceChunk {
        Objects.requireNonNull(cache, "cache");
        Objects.requireNonNull(tokens, "tokens");
        if (tokens.length == 0) throw new IllegalArgumentException("a sequence chunk needs at least one token");
        tokens = tokens.clone();
    }

    @Override
    public int[] tokens() {
        return tokens.clone();
    }

    /** Number of tokens. */
    public int length() {
        return tokens.length;
    }

    /** Token {@code i} (no copy). */
    public int token(int i) {
        return tokens[i];
    }
}
