package dev.jllm.contracts;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * What gateway-service reads from {@link Topics#GENERATION_EVENTS}, addressed to one gateway instance (or, on
 * {@link Topics#JOB_GENERATION_EVENTS}, what the job runner reads).
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
        @JsonSubTypes.Type(value = TokenGenerated.class, name = "TokenGenerated"),
        @JsonSubTypes.Type(value = RequestFailed.class, name = "RequestFailed")
})
public sealed interface GenerationEvent permits TokenGenerated, RequestFailed {
    String requestId();

    String gatewayId();
}
