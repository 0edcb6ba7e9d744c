package dev.jllm.contracts;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * What the job runner writes to {@link Topics#JOB_RESULTS}, keyed by job id: one {@link JobItemCompleted} per
 * item as it finishes, then one {@link JobFinished}. At least once: a consumer drops repeats by
 * (job id, item index).
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
        @JsonSubTypes.Type(value = JobItemCompleted.class, name = "JobItemCompleted"),
        @JsonSubTypes.Type(value = JobFinished.class, name = "JobFinished")
})
public sealed interface JobEvent permits JobItemCompleted, JobFinished {
    String jobId();
}
