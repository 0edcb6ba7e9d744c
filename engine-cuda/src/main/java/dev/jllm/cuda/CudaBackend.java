package dev.jllm.cuda;

import dev.jllm.cuda.ffm.CudaDevice;
import dev.jllm.cuda.model.CudaLanguageModel;
import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.LoadOptions;
import dev.jllm.engine.model.GgufModelLoader;
import dev.jllm.engine.model.ModelConfig;
import dev.jllm.engine.spi.Backend;
import dev.jllm.gguf.GgufFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The CUDA backend ({@code --backend cuda}), found through {@link java.util.ServiceLoader}. Available when
 * {@code libcuda.so.1} loads, a device answers and the jar carries the kernels; otherwise
 * {@link #unavailableReason()} says which of these is missing.
 *
 * <p>Its priority stays below the CPU backend's ({@code -Djllm.cuda.auto=true} lets it win the automatic
 * choice): the GPU checks of {@code engine-cuda/gpu-check.sh} pass on an H100, but this backend keeps F32 KV
 * caches only and loads GGUF files only, so choosing it by itself would break a deployment configured for
 * F16 caches or a Hugging Face directory. Asking for it by name always works where it is available.
 */
public final class CudaBackend implements Backend {
    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public Optional<String> unavailableReason() {
        CudaAvailability.Probe p = CudaAvailability.probe();
        return p.available() ? Optional.empty() : Optional.of(p.reason());
    }

    @Override
    public int priority() {
        return Boolean.getBoolean("jllm.cuda.auto") ? 10 : -1;
    }

    @Override
    public LanguageModel load(Path path, LoadOptions options) throws IOException {
        if (!Files.isRegularFile(path)) throw new IOException(path + ": the CUDA backend loads GGUF files only");
        CudaAvailability.Probe p = CudaAvailability.probe();
        if (!p.available()) throw new IllegalStateException("CUDA backend not available: " + p.reason());
        GgufFile f = GgufFile.open(path);
        try (f) {
            ModelConfig c = GgufModelLoader.config(f, options);
            CudaDevice dev = CudaDevice.open(p.driver().orElseThrow(), 0, CudaDevice.debugRequested());
            try {
                return new CudaLanguageModel(dev, f, c, GgufModelLoader.defaultPrefillChunk(c, options));
            } catch (RuntimeException e) {
                dev.close();
                throw e;
            }
        }
    }
}
