package dev.jllm.engine.spi;

import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.LoadOptions;
import dev.jllm.engine.model.GgufModelLoader;
import dev.jllm.engine.tensor.MatOps;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * The CPU backend: always available. Reads GGUF files itself and other formats (Hugging Face directories)
 * through {@link ModelFormat} providers.
 */
public final class CpuBackend implements Backend {
    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Optional<String> unavailableReason() {
        return Optional.empty();
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public LanguageModel load(Path path, LoadOptions options) throws IOException {
        if (options.threads() > 0) MatOps.setThreads(options.threads());
        if (Files.isRegularFile(path) && isGguf(path)) return GgufModelLoader.load(path, options);
        for (ModelFormat f : ServiceLoader.load(ModelFormat.class)) {
            if (f.accepts(path)) return f.load(path, options);
        }
        if (!Files.exists(path)) throw new java.nio.file.NoSuchFileException(path.toString());
        throw new IOException(path + ": not a GGUF file, and no installed model format accepts it");
    }

    private static boolean isGguf(Path p) throws IOException {
        try (var in = Files.newInputStream(p)) {
            byte[] m = in.readNBytes(4);
            return m.length == 4 && m[0] == 'G' && m[1] == 'G' && m[2] == 'U' && m[3] == 'F';
        }
    }
}
