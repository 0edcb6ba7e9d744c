package dev.jllm.tokenizerservice.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

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
}
