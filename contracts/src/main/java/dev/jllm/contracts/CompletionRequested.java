package dev.jllm.contracts;

import java.util.List;

/**
 * A client asked for a completion. Produced by gateway-service on {@link Topics#COMPLETION_REQUESTS}.
 *
 * @param requestId     unique id of this request (also the OpenAI response id); redeliveries carry the same id
 * @param gatewayId     the gateway instance holding the client connection: generation events are addressed to it
 * @param conversationKey Kafka key: session id when there is one, else the request id
 * @param sessionId     session to continue, or null for a stateless request
 * @param model         the model name the client asked for
 * @param messages      chat messages (chat completions), or null
 * @param prompt        raw prompt text (legacy completions), or null
 * @param stop          stop strings (never emitted)
 * @param createdAtMillis wall-clock time the gateway accepted the request
 */
public record CompletionRequested(
        String requestId,
        String gatewayId,
        String conversationKey,
        String sessionId,
        String model,
        List<ChatMessage> messages,
        String prompt,
        SamplingParams params,
        List<String> stop,
        Priority priority,
        long createdAtMillis) {

    public boolean isChat() {
        return messages != null;
    }
}
