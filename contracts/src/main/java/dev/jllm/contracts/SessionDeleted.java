package dev.jllm.contracts;

/**
 * A client deleted a session (gateway-service, after session-service removed its row and parked snapshot). The
 * inference replica that holds the session's hot KV cache drops it without parking it, so a deleted session is
 * neither served from memory nor written back by a later park. Keyed like the session's turns (its id), so it
 * reaches that replica behind them.
 *
 * @param requestId       a fresh id of this command (commands are deduplicated by it like requests)
 * @param conversationKey the Kafka key: the session id as the stack knows it (scoped by API key)
 * @param sessionId       the session to forget
 */
public record SessionDeleted(String requestId, String conversationKey, String sessionId) implements InferenceCommand {}
