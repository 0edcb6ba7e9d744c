package dev.jllm.engine.spi;

import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.LoadOptions;

import java.nio.file.Path;
import java.util.Optional;

/** A backend registered for the tests that is never available (like CUDA on a machine without a GPU). */
public final class UnavailableTestBackend implements Backend {
    @Override
    public String name() {
        return "test-gpu";
    }

    @Override
    public Optional<String> unavailableReason() {
        return Optional.of("no test GPU here");
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public LanguageModel load(Path path, LoadOptions options) {
        throw new AssertionError("must not be used");
    }
}
