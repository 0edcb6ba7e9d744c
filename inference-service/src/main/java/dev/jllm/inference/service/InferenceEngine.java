package dev.jllm.inference.service;

import dev.jllm.batching.GenerationSink;
import dev.jllm.batching.Scheduler;
import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.LoadOptions;
import dev.jllm.engine.Models;
import dev.jllm.engine.kv.KvCacheOptions;
import dev.jllm.engine.kv.KvType;
import dev.jllm.inference.config.InferenceConfig;
import dev.jllm.tokenizer.Tokenizer;
import dev.jllm.tokenizer.Tokenizers;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Owns the model, its tokenizer and the scheduler for the life of the service. Loaded at start-up (mmap: well
 * under a second for a 1B model), so the service is ready only when it can serve.
 */
@ApplicationScoped
public class InferenceEngine {
    private static final Logger LOG = Logger.getLogger(InferenceEngine.class);

    @Inject InferenceConfig config;
    @Inject GenerationSink sink;

    private LanguageModel model;
    private Tokenizer tokenizer;
    private Scheduler scheduler;

    /** Runs before the Kafka connectors start (they start at LIBRARY_BEFORE): no command finds the model missing. */
    void onStart(@Observes @jakarta.annotation.Priority(jakarta.interceptor.Interceptor.Priority.PLATFORM_BEFORE) StartupEvent ev) {
        Path path = Path.of(config.model());
        if (!Files.exists(path)) {
            throw new IllegalStateException("model not found: " + path + " (set MODEL / jllm.inference.model to a GGUF file)");
        }
        long t0 = System.nanoTime();
        try {
            LoadOptions opts = LoadOptions.DEFAULT.withThreads(config.threads().orElse(0));
            model = Models.load(path, opts);
            tokenizer = Files.isDirectory(path) ? Tokenizers.fromHuggingFace(path) : Tokenizers.fromGguf(path);
        } catch (IOException e) {
            throw new UncheckedIOException("could not load " + path + ": " + e.getMessage(), e);
        }
        var limits = new Scheduler.Limits(config.maxRunning(), config.maxQueued(), config.kvBudgetMb() << 20,
                config.prefillTokensPerStep(), new KvCacheOptions(KvType.valueOf(config.kvType()), config.maxContext()),
                config.rememberedRequests(), config.sessionCacheMb() << 20, config.sessionIdlePark());
        var store = config.sessionServiceUrl().filter(u -> !u.isBlank())
                .map(u -> new dev.jllm.inference.persistence.SessionServiceStore(u, path.getFileName().toString(), model))
                .orElse(null);
        scheduler = new Scheduler(model, tokenizer, sink, limits, store).start();
        if (store != null) LOG.infof("idle sessions are parked in session-service at %s", config.sessionServiceUrl().get());
        LOG.infof("model %s loaded on the %s backend in %d ms (%s)", path.getFileName(), model.backend(),
                (System.nanoTime() - t0) / 1_000_000, model.config());
    }

    void onStop(@Observes ShutdownEvent ev) {
        if (scheduler != null) scheduler.close();
        if (model != null) model.close();
    }

    /** The model file's name (what the replica reports). */
    public String modelName() {
        return Path.of(config.model()).getFileName().toString();
    }

    /** Loaded, and the scheduler thread still runs (an Error that ends it must turn readiness DOWN). */
    public boolean ready() {
        return scheduler != null && scheduler.isRunning();
    }

    public Scheduler scheduler() {
        if (scheduler == null) throw new IllegalStateException("the model is not loaded");
        return scheduler;
    }
}
