package dev.jllm.engine.spi;

import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.LoadOptions;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A place a model can run (CPU, CUDA, ...), found through {@link java.util.ServiceLoader}
 * ({@code META-INF/services/dev.jllm.engine.spi.Backend}). {@link dev.jllm.engine.Models#load} picks the
 * available backend of highest {@link #priority()}; the CPU backend (priority 0) is always available.
 */
public interface Backend {
    /** Short name ("cpu", "cuda"), as {@link LoadOptions#backend()} names it. */
    String name();

    /** Empty when this backend can run here; otherwise why not (logged when another one is chosen). */
    Optional<String> unavailableReason();

    /** Higher wins among available backends. */
    int priority();

    /** Loads a model file or directory. */
    LanguageModel load(Path path, LoadOptions options) throws IOException;
}
