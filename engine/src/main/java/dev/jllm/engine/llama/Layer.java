package dev.jllm.engine.llama;

import java.util.Objects;

/**
 * One pre-norm transformer layer: {@code x += attention(rmsnorm(x) * attnNorm); x += ffn(rmsnorm(x) * ffnNorm)}.
 *
 * @param attnNorm  {@code [dim]} RMSNorm weight before attention
 * @param attention the attention block
 * @param ffnNorm   {@code [dim]} RMSNorm weight before the feed-forward block
 * @param ffn       the feed-forward block
 */
public record Layer(float[] attnNorm, AttentionBlock attention, float[] ffnNorm, FeedForwardBlock ffn) {
    public Layer {
        Objects.requireNonNull(attnNorm, "attnNorm");
        Objects.requireNonNull(attention, "attention");
        Objects.requireNonNull(ffnNorm, "ffnNorm");
        Objects.requireNonNull(ffn, "ffn");
    }
}
