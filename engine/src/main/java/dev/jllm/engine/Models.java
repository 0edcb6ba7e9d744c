package dev.jllm.engine;

import dev.jllm.engine.spi.Backend;
import dev.jllm.engine.spi.CpuBackend;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Entry point: loads a model on the best available {@link Backend}. Backends come from
 * {@link ServiceLoader}; the CPU backend is built in and used when no other is available (the reason is
 * logged).
 */
public final class Models {
    private static final System.Logger LOG = System.getLogger(Models.class.getName());

    private Models() {
    }

    /** Loads a GGUF file or a Hugging Face model directory. */
    public static LanguageModel load(Path fileOrDir, LoadOptions options) throws IOException {
        if (!java.nio.file.Files.exists(fileOrDir)) {
            throw new java.nio.file.NoSuchFileException(fileOrDir.toString(), null, "model not found");
        }
        return backend(options.backend()).load(fileOrDir, options);
    }

    public static LanguageModel load(Path fileOrDir) throws IOException {
        return load(fileOrDir, LoadOptions.DEFAULT);
    }

    /** Every backend: the built-in CPU one and those found by {@link ServiceLoader}. */
    public static List<Backend> backends() {
        List<Backend> all = new ArrayList<>();
        all.add(new CpuBackend());
        for (Backend b : ServiceLoader.load(Backend.class)) {
            if (!b.name().equals("cpu")) all.add(b);
        }
        return all;
    }

    /** The backend named {@code name}, or (null) the available one of highest priority. */
    public static Backend backend(String name) {
        List<Backend> all = backends();
        if (name != null) {
            for (Backend b : all) {
                if (b.name().equals(name)) {
                    Optional<String> why = b.unavailableReason();
                    if (why.isPresent()) throw new IllegalStateException("backend '" + name + "' is not available: " + why.get());
                    return b;
                }
            }
            throw new IllegalArgumentException("no backend named '" + name + "' (have: "
                    + all.stream().map(Backend::name).toList() + ")");
        }
        Backend best = null;
        for (Backend b : all.stream().sorted(Comparator.comparingInt(Backend::priority).reversed()).toList()) {
            Optional<String> why = b.unavailableReason();
            if (why.isEmpty()) {
                best = b;
                break;
            }
            LOG.log(System.Logger.Level.INFO, "backend {0} not used: {1}", b.name(), why.get());
        }
        if (best == null) throw new AssertionError("the CPU backend is always available");
        if (best.name().equals("cpu")) {
            LOG.log(System.Logger.Level.INFO, all.size() == 1
                    ? "using the CPU backend (no other backend installed)"
                    : "using the CPU backend (no other backend available)");
        }
        return best;
    }
}
