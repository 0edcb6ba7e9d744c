package dev.jllm.engine.sample;

/**
 * One sampled token.
 *
 * @param token       the chosen id
 * @param logprob     its log-probability under the distribution named by {@link SamplingParams#logprobsMode()}
 * @param topIds      the N most likely ids under that distribution, most likely first (empty when not asked)
 * @param topLogprobs their log-probabilities, aligned with {@code topIds}
 */
public record Sample(int token, float logprob, int[] topIds, float[] topLogprobs) {
}
