package dev.jllm.tokenizerservice.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jllm.gguf.GgufFile;
import dev.jllm.tokenizer.Tokenizer;
import dev.jllm.tokenizer.Tokenizers;
import dev.jllm.tokenizerservice.config.TokenizerServiceConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The served model's tokenizer and context length, loaded once at start. */
@ApplicationScoped
public class ModelTokenizer {
    private static final Logger LOG = Logger.getLogger(ModelTokenizer.class);

    @Inject TokenizerServiceConfig config;

    private volatile Tokenizer tokenizer;
    private int contextLength;

    /** Runs before the Kafka connectors start (they start at LIBRARY_BEFORE): no request finds the tokenizer missing. */
    void onStart(@Observes @jakarta.annotation.Priority(jakarta.interceptor.Interceptor.Priority.PLATFORM_BEFORE) StartupEvent ev) {
        Path path = Path.of(config.model());
        if (!Files.exists(path)) {
            throw new IllegalStateException("model not found: " + path + " (set MODEL / jllm.tokenizer.model)");
        }
        try {
            if (Files.isDirectory(path)) {
                tokenizer = Tokenizers.fromHuggingFace(path);
                JsonNode cfg = new ObjectMapper().readTree(path.resolve("config.json").toFile());
                JsonNode text = cfg.has("text_config") ? cfg.get("text_config") : cfg;
                contextLength = text.path("max_position_embeddings").asInt(2048);
            } else {
                try (GgufFile gguf = GgufFile.open(path)) {
                    tokenizer = Tokenizers.fromGguf(gguf);
                    String arch = gguf.getString("general.architecture");
                    contextLength = (int) gguf.findLong(arch + ".context_length").orElse(2048);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not load the tokenizer of " + path + ": " + e.getMessage(), e);
        }
        contextLength = config.contextLength().orElse(contextLength);
        LOG.infof("tokenizer of %s loaded: %s, context %d", path.getFileName(), tokenizer, contextLength);
    }

    public Tokenizer tokenizer() {
        if (tokenizer == null) throw new IllegalStateException("the tokenizer is not loaded yet");
        return tokenizer;
    }

    public boolean ready() {
        return tokenizer != null;
    }

    public int contextLength() {
        return contextLength;
    }
}
