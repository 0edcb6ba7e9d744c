package dev.jllm.contracts;

import java.util.List;

/**
 * Every Kafka topic of the pipeline, defined once. Keys are chosen by what must stay ordered; see
 * docs/ARCHITECTURE.md for producers and consumers.
 */
public final class Topics {
    private Topics() {}

    /**
     * gateway-service -> tokenizer-service. Value {@link CompletionRequested}; key: the conversation key
     * (session id, else request id), so all turns of a conversation stay ordered.
     */
    public static final String COMPLETION_REQUESTS = "completion-requests";

    /**
     * tokenizer-service -> inference-service ({@link PromptTokenized}) and gateway-service ->
     * inference-service ({@link GenerationCancelled}). Value {@link InferenceCommand}; key: the conversation
     * key, so a conversation and its cancels always reach the same partition and hence the same inference
     * replica (its KV cache stays hot there).
     */
    public static final String INFERENCE_COMMANDS = "inference-commands";

    /**
     * inference-service and tokenizer-service -> gateway-service. Value {@link GenerationEvent}; key: the
     * request id, so the tokens of one request stay in order. Every gateway instance reads every partition
     * (its own consumer group) and keeps the events addressed to it ({@code gatewayId}). Job items' events go to
     * {@link #JOB_GENERATION_EVENTS} instead ({@link #generationEventsTopic}).
     */
    public static final String GENERATION_EVENTS = "generation-events";

    /** The {@code gatewayId} of the job runner's requests (session-service): their events go to {@link #JOB_GENERATION_EVENTS}. */
    public static final String JOB_RUNNER_ID = "jobs";

    /**
     * inference-service and tokenizer-service -> the job runner (session-service). Value {@link GenerationEvent} of
     * a job item (addressed to {@link #JOB_RUNNER_ID}); key: the request id. Apart from {@link #GENERATION_EVENTS} so
     * that the job runner does not read and parse every token of every interactive answer (nor the gateways every
     * job token): on the 2-core dev machine, with 8 concurrent streams, that reader took about 0.7 of the gateway's
     * CPU per token, on the cores that stream the answers.
     */
    public static final String JOB_GENERATION_EVENTS = "job-generation-events";

    /** The topic of the generation events addressed to {@code gatewayId}. */
    public static String generationEventsTopic(String gatewayId) {
        return JOB_RUNNER_ID.equals(gatewayId) ? JOB_GENERATION_EVENTS : GENERATION_EVENTS;
    }

    /** Records that could not be read or processed, with the reason in headers and {@link DeadLetter}. */
    public static final String DEAD_LETTERS = "dead-letters";

    /**
     * inference-service -> every gateway-service instance, about once a second. Value
     * {@link ReplicaStatsReported}; key: the replica id. The gateway's {@code /metrics} sums the fresh reports.
     */
    public static final String REPLICA_STATS = "replica-stats";

    /**
     * Kafka-native clients -> the job runner (session-service, consumer group
     * {@code job-runner}). Value {@link JobCommand} ({@link JobSubmitted} | {@link JobCancelled}); key: the job id.
     */
    public static final String JOB_REQUESTS = "job-requests";

    /**
     * The job runner -> clients. Value {@link JobEvent}: a {@link JobItemCompleted} per item, then a
     * {@link JobFinished}; key: the job id, so a job's records stay in order.
     */
    public static final String JOB_RESULTS = "job-results";

    /** All topics, for pre-creation by the local broker and deployment scripts. */
    public static final List<String> ALL = List.of(COMPLETION_REQUESTS, INFERENCE_COMMANDS, GENERATION_EVENTS,
            JOB_GENERATION_EVENTS, DEAD_LETTERS, REPLICA_STATS, JOB_REQUESTS, JOB_RESULTS);

    /** Partitions each topic is created with (replicas of a consumer group scale up to this). */
    public static final int PARTITIONS = 4;
}
