package dev.jllm.contracts;

/**
 * One generation step of one request. {@code index} counts from 0 per request so the gateway can drop
 * duplicates and detect gaps. The last event of a request has a non-null {@code finishReason} and
 * {@code usage} (its {@code text} may be empty: text held back for a possible stop string is flushed there).
 *
 * @param text     the text delta to append (never splits a UTF-8 character; stop strings are not included)
 * @param tokenId  the sampled token, or -1 on a final event that carries no token
 * @param logprob  null unless the request asked for logprobs
 */
public record TokenGenerated(
        String requestId,
        String gatewayId,
        int index,
        int tokenId,
        String text,
        TokenLogprob logprob,
        FinishReason finishReason,
        Usage usage) implements GenerationEvent {

    public boolean isLast() {
        return finishReason != null;
    }
}
