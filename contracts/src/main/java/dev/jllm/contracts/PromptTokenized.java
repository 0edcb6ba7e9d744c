package dev.jllm.contracts;

import java.util.List;

/**
 * A validated request, rendered and tokenized, ready for the model. Produced by tokenizer-service.
 *
 * @param promptIds the exact token ids to prefill (BOS included where the model wants it)
 * @param stop      stop strings, matched on the generated text by the streaming detokenizer
 */
public record PromptTokenized(
        String requestId,
        String gatewayId,
        String conversationKey,
        String sessionId,
        String model,
        int[] promptIds,
        SamplingParams params,
        List<String> stop,
        Priority priority,
        long createdAtMillis) implements InferenceCommand {}
