package dev.jllm.contracts;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One request of a job, as in OpenAI's Batch API: the endpoint and the very body a client would POST there.
 *
 * @param customId the client's own name for the item (echoed in its result), or null
 * @param url      {@code /v1/chat/completions} or {@code /v1/completions}
 * @param body     the OpenAI request body ({@code model}, {@code messages} or {@code prompt}, sampling parameters)
 */
public record JobItem(String customId, String url, JsonNode body) {
    public static final String CHAT_URL = "/v1/chat/completions";
    public static final String COMPLETIONS_URL = "/v1/completions";
}
