package dev.jllm.engine;

/**
 * How to load a model.
 *
 * @param threads       compute threads (0: all available processors)
 * @param slidingWindow override of the sliding window: null keeps the file's, 0 disables, n sets it
 *                      (a GGUF converted from Mistral often lacks {@code llama.attention.sliding_window})
 * @param contextLength override of the context length (0: the file's)
 * @param prefillChunk  most tokens per sequence in one pass (0: the sliding window for SWA models, else 512)
 * @param backend       backend name to require ("cpu", "cuda"), or null for the best available
 * @param referenceKernels use the scalar reference kernels instead of the fast ones (tests)
 */
public record LoadOptions(int threads, Integer slidingWindow, int contextLength, int prefillChunk, String backend,
                          boolean referenceKernels) {
    public static final LoadOptions DEFAULT = new LoadOptions(0, null, 0, 0, null, false);

    public LoadOptions {
        if (threads < 0) throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        if (slidingWindow != null && slidingWindow < 0) throw new IllegalArgumentException("sliding window must be >= 0");
        if (contextLength < 0) throw new IllegalArgumentException("context length must be >= 0");
        if (prefillChunk < 0) throw new IllegalArgumentException("prefill chunk must be >= 0");
    }

    public LoadOptions withThreads(int n) {
        return new LoadOptions(n, slidingWindow, contextLength, prefillChunk, backend, referenceKernels);
    }

    public LoadOptions withSlidingWindow(Integer w) {
        return new LoadOptions(threads, w, contextLength, prefillChunk, backend, referenceKernels);
    }

    public LoadOptions withContextLength(int n) {
        return new LoadOptions(threads, slidingWindow, n, prefillChunk, backend, referenceKernels);
    }

    public LoadOptions withPrefillChunk(int n) {
        return new LoadOptions(threads, slidingWindow, contextLength, n, backend, referenceKernels);
    }

    public LoadOptions withBackend(String b) {
        return new LoadOptions(threads, slidingWindow, contextLength, prefillChunk, b, referenceKernels);
    }

    public LoadOptions withReferenceKernels(boolean r) {
        return new LoadOptions(threads, slidingWindow, contextLength, prefillChunk, backend, r);
    }
}
