package dev.jllm.contracts;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/** What the job runner (session-service) reads from {@link Topics#JOB_REQUESTS}; keyed by job id. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
        @JsonSubTypes.Type(value = JobSubmitted.class, name = "JobSubmitted"),
        @JsonSubTypes.Type(value = JobCancelled.class, name = "JobCancelled")
})
public sealed interface JobCommand permits JobSubmitted, JobCancelled {
    String jobId();
}
