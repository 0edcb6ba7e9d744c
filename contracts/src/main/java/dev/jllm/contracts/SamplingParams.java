package dev.jllm.contracts;

/**
 * Decoding parameters of one request, with OpenAI / llama.cpp semantics. Zero temperature means greedy.
 * {@code topK <= 0}, {@code topP >= 1}, {@code minP <= 0} and penalties of 0 (repetition 1) switch the filter off.
 * A null seed means "choose one".
 */
public record SamplingParams(
        double temperature,
        double topP,
        int topK,
        double minP,
        double presencePenalty,
        double frequencyPenalty,
        double repetitionPenalty,
        Long seed,
        int maxTokens,
        int topLogprobs,
        boolean logprobs) {

    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(0, 1, 0, 0, 0, 0, 1, null, maxTokens, 0, false);
    }
}
