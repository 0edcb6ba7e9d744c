package dev.jllm.tokenizerservice.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/** Typed configuration of tokenizer-service ({@code jllm.tokenizer.*}). */
@ConfigMapping(prefix = "jllm.tokenizer")
public interface TokenizerServiceConfig {
    /** The model whose tokenizer and chat template to use: a GGUF file or a Hugging Face model directory. */
    String model();

    /** Context length to enforce; default: the model's own (must match inference-service's setting). */
    Optional<Integer> contextLength();

    /** A Jinja chat template that replaces the model's own. */
    Optional<String> chatTemplate();

    /**
     * session-service's base URL: a chat turn of a session may then send only its new messages (the stored
     * conversation comes first). Absent: every turn must send the whole history.
     */
    Optional<String> sessionServiceUrl();

    /** Deadline for loading a session's conversation; past it the request is taken as the whole history. */
    @WithDefault("2s")
    Duration sessionServiceTimeout();
}
