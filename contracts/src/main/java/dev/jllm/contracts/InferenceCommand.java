package dev.jllm.contracts;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/** What inference-service reads from {@link Topics#INFERENCE_COMMANDS}. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
        @JsonSubTypes.Type(value = PromptTokenized.class, name = "PromptTokenized"),
        @JsonSubTypes.Type(value = GenerationCancelled.class, name = "GenerationCancelled"),
        @JsonSubTypes.Type(value = SessionDeleted.class, name = "SessionDeleted")
})
public sealed interface InferenceCommand permits PromptTokenized, GenerationCancelled, SessionDeleted {
    String requestId();
}
