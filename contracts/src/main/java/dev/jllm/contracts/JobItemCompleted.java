package dev.jllm.contracts;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One item of a job finished.
 *
 * @param index    the item's position in the job (from 0)
 * @param customId the item's {@code customId}, or null
 * @param status   {@code completed} (with {@code response}) or {@code failed} (with {@code error})
 * @param response the OpenAI response object, exactly what the direct (non-streaming) request returns
 * @param error    {@code {"status": <http status>, "error": {"message","type","param","code"}}}
 */
public record JobItemCompleted(String jobId, int index, String customId, String status, JsonNode response, JsonNode error)
        implements JobEvent {
    public static final String COMPLETED = "completed";
    public static final String FAILED = "failed";
}
