package dev.jllm.engine.bench;

import java.util.List;
import java.util.Locale;

/**
 * Named model shapes for synthetic models and benchmarks ({@code llama.*} hyper-parameters as the published
 * checkpoints have them; "tiny-" shapes are small, odd-sized models for tests).
 */
public record Shapes(String name, int dim, int layers, int heads, int kvHeads, int ffn, int vocab, int context,
                     float ropeBase, float normEps, int experts, int expertsUsed, int slidingWindow, boolean tiedEmbeddings,
                     float ropeScalingFactor) {

    public int headDim() {
        return dim / heads;
    }

    public static final List<Shapes> ALL = List.of(
            new Shapes("llama-3.2-1b", 2048, 16, 32, 8, 8192, 128256, 131072, 500000f, 1e-5f, 0, 0, 0, true, 32f),
            new Shapes("llama-3.2-3b", 3072, 28, 24, 8, 8192, 128256, 131072, 500000f, 1e-5f, 0, 0, 0, true, 32f),
            new Shapes("llama-3.1-8b", 4096, 32, 32, 8, 14336, 128256, 131072, 500000f, 1e-5f, 0, 0, 0, false, 8f),
            new Shapes("mistral-7b", 4096, 32, 32, 8, 14336, 32000, 32768, 10000f, 1e-5f, 0, 0, 4096, false, 0f),
            new Shapes("mixtral-8x7b", 4096, 32, 32, 8, 14336, 32000, 32768, 1000000f, 1e-5f, 8, 2, 0, false, 0f),
            new Shapes("tinyllama-1.1b", 2048, 22, 32, 4, 5632, 32000, 2048, 10000f, 1e-5f, 0, 0, 0, false, 0f),
            // a small real-world-like shape (GPT-2-small width): memory-bound on a CPU, quick enough for whole-stack benchmarks
            new Shapes("llama-125m", 768, 12, 12, 4, 2048, 32000, 2048, 10000f, 1e-5f, 0, 0, 0, false, 0f),
            // small shapes for tests: odd vocab, GQA, few layers; dims multiples of 256 so every type fits
            new Shapes("tiny-llama", 256, 2, 4, 2, 768, 1000, 512, 10000f, 1e-5f, 0, 0, 0, false, 0f),
            new Shapes("tiny-llama3", 256, 2, 4, 2, 768, 1000, 512, 500000f, 1e-5f, 0, 0, 0, true, 8f),
            new Shapes("tiny-mistral", 256, 2, 8, 2, 512, 1000, 512, 10000f, 1e-5f, 0, 0, 8, false, 0f),
            new Shapes("tiny-mixtral", 256, 2, 4, 2, 512, 1000, 512, 1000000f, 1e-5f, 4, 2, 0, false, 0f));

    public static Shapes named(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (Shapes s : ALL) if (s.name.equals(n)) return s;
        throw new IllegalArgumentException("unknown shape '" + name + "'; known: "
                + ALL.stream().map(Shapes::name).toList());
    }
}
