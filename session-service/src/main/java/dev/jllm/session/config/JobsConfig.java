package dev.jllm.session.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Typed configuration of the job runner ({@code jllm.jobs.*}, or {@code JLLM_JOBS_*} variables). */
@ConfigMapping(prefix = "jllm.jobs")
public interface JobsConfig {
    /** Model names job items may name (the gateway's {@code JLLM_MODEL_NAME}); absent: any. */
    Optional<List<String>> models();

    /** Most requests in one job. */
    @WithDefault("1000")
    int maxItems();

    /**
     * Job items in the pipeline at once (all jobs together): batch work never fills the inference queue, and
     * interactive requests find room.
     */
    @WithDefault("4")
    int maxInFlight();

    /** An item with no event for this long is cancelled and submitted again (a lost record, a dead replica). */
    @WithDefault("120s")
    Duration itemTimeout();

    /** Submissions of one item before it fails with its last error. */
    @WithDefault("5")
    int maxAttempts();

    /** Wait before the second attempt of an item; doubles per attempt up to {@link #retryBackoffMax()}. */
    @WithDefault("1s")
    Duration retryBackoff();

    @WithDefault("30s")
    Duration retryBackoffMax();

    /** How often the runner looks for new work, cancels and unpublished results in the database. */
    @WithDefault("500ms")
    Duration pollInterval();

    /** Finished jobs are deleted with their results after this. */
    @WithDefault("7d")
    Duration ttl();
}
