package dev.jllm.inference.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.util.Optional;

/** Typed configuration of inference-service ({@code jllm.inference.*}, or {@code JLLM_INFERENCE_*} variables). */
@ConfigMapping(prefix = "jllm.inference")
public interface InferenceConfig {

    /** The model: a GGUF file or a Hugging Face model directory. */
    String model();

    /** Compute threads for the engine (default: all processors). */
    Optional<Integer> threads();

    /** Sequences decoding together in one batch at most. */
    @WithDefault("16")
    int maxRunning();

    /** Requests waiting for admission at most; past this a request is refused with 429. */
    @WithDefault("256")
    int maxQueued();

    /** KV-cache memory all running sequences may reserve together. */
    @WithDefault("2048")
    long kvBudgetMb();

    /** Prompt tokens prefilled per step, over all sequences (decode tokens always go). */
    @WithDefault("512")
    int prefillTokensPerStep();

    /** KV-cache storage: F32 or F16. */
    @WithDefault("F32")
    String kvType();

    /** Longest sequence a cache holds (0: the model's context length). */
    @WithDefault("0")
    int maxContext();

    /** KV caches of idle sessions kept hot for their next turn (0: no session reuse). */
    @WithDefault("512")
    long sessionCacheMb();

    /** An idle session's cache is parked (and leaves memory) after this long without a turn. */
    @WithDefault("10m")
    java.time.Duration sessionIdlePark();

    /**
     * session-service's base URL: idle session caches that leave memory are parked there and restored on their
     * next turn, also by another replica or after a restart. Absent: sessions live in memory only.
     */
    Optional<String> sessionServiceUrl();

    /** Request ids remembered to recognise redeliveries. */
    @WithDefault("100000")
    int rememberedRequests();
}
