/**
 * Token sampling: pure functions over a {@code float[]} logit vector.
 *
 * <p>{@link dev.jllm.engine.sample.Sampler} applies, in order: repetition penalty (CTRL / llama.cpp / HF: divide a
 * positive logit, multiply a negative one), presence and frequency penalties (OpenAI / vLLM:
 * {@code logit -= count * frequency + (count > 0) * presence}) over the last {@code penaltyLastN} tokens of the
 * history the caller passes; temperature (0 = greedy arg max); top-k, top-p, min-p (HF / vLLM order, on the tempered
 * distribution); then one draw with the sampler's own seeded {@code L64X128MixRandom}. Reported log-probabilities
 * are by default those of the raw model distribution (vLLM V1's {@code raw_logprobs}); see
 * {@link dev.jllm.engine.sample.SamplingParams.LogprobsMode}.
 *
 * <p>Nothing sorts the vocabulary: top-k and top-N logprobs use a bounded heap, top-p without top-k a three-level
 * radix select over the logits' bit patterns.
 */
package dev.jllm.engine.sample;
