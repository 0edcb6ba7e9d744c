package dev.jllm.engine.sample;

/**
 * Immutable sampling settings for one sequence.
 *
 * <p>Semantics (the order in which {@link Sampler} applies them):
 * <ol>
 *   <li><b>repetition penalty</b> (CTRL / llama.cpp / HF {@code repetition_penalty}): for every distinct token in
 *       the penalty window, a positive logit is divided by the penalty, a negative one multiplied by it.
 *       1 = off.</li>
 *   <li><b>presence / frequency penalties</b> (OpenAI / vLLM / llama.cpp): {@code logit -= count * frequency +
 *       (count > 0 ? presence : 0)} where {@code count} is how often the token occurs in the window. 0 = off.</li>
 *   <li><b>temperature</b>: logits are divided by it; {@code temperature == 0} means greedy (arg max after
 *       penalties, lowest id on ties) and the truncation steps below are skipped.</li>
 *   <li><b>top-k</b> (keep the k highest; 0 or negative = off), then <b>top-p</b> (keep the smallest prefix of the
 *       sorted distribution whose mass reaches p; 1 = off), then <b>min-p</b> (keep tokens whose probability is
 *       at least {@code minP} times the top one's; 0 = off). This is the HF transformers / vLLM order
 *       (temperature first, so top-p and min-p see the tempered distribution).</li>
 *   <li>a draw from the renormalised remaining distribution with the sampler's own seeded generator.</li>
 * </ol>
 *
 * <p>The penalty window is the last {@code penaltyLastN} tokens of the history the caller passes
 * ({@code -1} = all of it, {@code 0} = penalties off), as llama.cpp's {@code penalty_last_n}. Whether the
 * history holds the prompt too is the caller's choice: OpenAI counts only generated tokens.
 *
 * <p>{@code topLogprobs} (0 = none) asks for the N most likely tokens and their log-probabilities; see
 * {@link LogprobsMode} for which distribution they describe.
 */
public record SamplingParams(
        float temperature,
        int topK,
        float topP,
        float minP,
        float repetitionPenalty,
        float presencePenalty,
        float frequencyPenalty,
        int penaltyLastN,
        long seed,
        int topLogprobs,
        LogprobsMode logprobsMode) {

    /** Which distribution reported log-probabilities describe. */
    public enum LogprobsMode {
        /**
         * log-softmax of the model's raw logits, before penalties, temperature and truncation (vLLM V1's default
         * {@code raw_logprobs}; what OpenAI reports for the model's own belief).
         */
        RAW,
        /** log-softmax after penalties and temperature, before top-k/top-p/min-p truncation. */
        PROCESSED
    }

    public SamplingParams {
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        if (!(minP >= 0 && minP <= 1)) throw new IllegalArgumentException("min_p must be in [0, 1], got " + minP);
        if (!(repetitionPenalty > 0) || Float.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetition_penalty must be > 0, got " + repetitionPenalty);
        }
        if (Float.isNaN(presencePenalty) || Float.isInfinite(presencePenalty)) {
            throw new IllegalArgumentException("presence_penalty must be finite, got " + presencePenalty);
        }
        if (Float.isNaN(frequencyPenalty) || Float.isInfinite(frequencyPenalty)) {
            throw new IllegalArgumentException("frequency_penalty must be finite, got " + frequencyPenalty);
        }
        if (penaltyLastN < -1) throw new IllegalArgumentException("penalty_last_n must be >= -1, got " + penaltyLastN);
        if (topLogprobs < 0) throw new IllegalArgumentException("top_logprobs must be >= 0, got " + topLogprobs);
        if (logprobsMode == null) logprobsMode = LogprobsMode.RAW;
    }

    /** Greedy decoding, no penalties, no logprobs. */
    public static SamplingParams greedy() {
        return builder().temperature(0).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public boolean isGreedy() {
        return temperature == 0f;
    }

    public boolean hasPenalties() {
        return penaltyLastN != 0 && (repetitionPenalty != 1f || presencePenalty != 0f || frequencyPenalty != 0f);
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.temperature = temperature;
        b.topK = topK;
        b.topP = topP;
        b.minP = minP;
        b.repetitionPenalty = repetitionPenalty;
        b.presencePenalty = presencePenalty;
        b.frequencyPenalty = frequencyPenalty;
        b.penaltyLastN = penaltyLastN;
        b.seed = seed;
        b.topLogprobs = topLogprobs;
        b.logprobsMode = logprobsMode;
        return b;
    }

    /** Defaults: temperature 1, every truncation and penalty off, seed 0, window 64, no logprobs. */
    public static final class Builder {
        private float temperature = 1f;
        private int topK = 0;
        private float topP = 1f;
        private float minP = 0f;
        private float repetitionPenalty = 1f;
        private float presencePenalty = 0f;
        private float frequencyPenalty = 0f;
        private int penaltyLastN = 64;
        private long seed = 0;
        private int topLogprobs = 0;
        private LogprobsMode logprobsMode = LogprobsMode.RAW;

        public Builder temperature(float v) { temperature = v; return this; }
        public Builder topK(int v) { topK = v; return this; }
        public Builder topP(float v) { topP = v; return this; }
        public Builder minP(float v) { minP = v; return this; }
        public Builder repetitionPenalty(float v) { repetitionPenalty = v; return this; }
        public Builder presencePenalty(float v) { presencePenalty = v; return this; }
        public Builder frequencyPenalty(float v) { frequencyPenalty = v; return this; }
        public Builder penaltyLastN(int v) { penaltyLastN = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder topLogprobs(int v) { topLogprobs = v; return this; }
        public Builder logprobsMode(LogprobsMode v) { logprobsMode = v; return this; }

        public SamplingParams build() {
            return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty,
                    frequencyPenalty, penaltyLastN, seed, topLogprobs, logprobsMode);
        }
    }
}
