package dev.jllm.engine.spi;

import dev.jllm.engine.LoadOptions;
import dev.jllm.engine.llama.Transformer;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A weight format the CPU backend can read besides GGUF (which is built in), found through
 * {@link java.util.ServiceLoader} ({@code META-INF/services/dev.jllm.engine.spi.ModelFormat}); e.g. a Hugging
 * Face directory of safetensors + config.json.
 */
public interface ModelFormat {
    /** Whether {@code path} is in this format (cheap: file names, magic bytes). */
    boolean accepts(Path path);

    /** Loads the model; the returned transformer owns (and closes) the mapped files. */
    Transformer load(Path path, LoadOptions options) throws IOException;
}
