/**
 * The jllm inference engine: load a model, run batched forward passes over per-sequence KV caches.
 *
 * <pre>{@code
 * try (LanguageModel m = Models.load(Path.of("model.gguf"), LoadOptions.DEFAULT.withThreads(8))) {
 *     ModelConfig c = m.config();
 *     KvCache a = m.newCache(KvCacheOptions.of(KvType.F16)), b = m.newCache();
 *     float[] logits = m.forward(a, promptIds);                 // prefill one sequence
 *     float[][] step = m.forward(List.of(                       // one packed pass over two sequences
 *             new SequenceChunk(a, new int[] {next}, true),     //   decode step of a
 *             new SequenceChunk(b, otherPrompt, true)));        //   prefill of b
 *     a.writeTo(out);                                           // park a session
 *     KvCache restored = m.readCache(in);
 * }
 * }</pre>
 *
 * <p>Packages: {@code model} (the immutable {@link dev.jllm.engine.model.ModelConfig}, GGUF metadata and tensor
 * names, weight loading), {@code llama} (the forward pass: {@link dev.jllm.engine.llama.Transformer} over
 * {@link dev.jllm.engine.llama.Layer}s of {@link dev.jllm.engine.llama.AttentionBlock} and
 * {@link dev.jllm.engine.llama.FeedForwardBlock} implementations), {@code kv} (caches), {@code tensor} (weight
 * types and kernels), {@code sample} (sampling), {@code spi} (backends and model formats), {@code cli}.
 */
package dev.jllm.engine;
