package dev.jllm.contracts;

/**
 * A request could not be served. {@code status} is the HTTP status the gateway answers with (or sends as an
 * SSE error event when the stream already started); {@code type}, {@code param} and {@code code} are the
 * OpenAI error object's fields.
 */
public record RequestFailed(
        String requestId,
        String gatewayId,
        int status,
        String type,
        String message,
        String param,
        String code) implements GenerationEvent {

    public static RequestFailed invalid(String requestId, String gatewayId, String message, String param) {
        return new RequestFailed(requestId, gatewayId, 400, "invalid_request_error", message, param, null);
    }
}
