package dev.jllm.contracts;

/**
 * What one inference replica is doing, reported periodically on {@link Topics#REPLICA_STATS}.
 *
 * @param queued          requests waiting for admission
 * @param running         sequences in the running batch
 * @param kvBytesReserved KV-cache bytes reserved by running sequences
 * @param sessionBytes    KV-cache bytes held for idle sessions
 * @param tokensGenerated tokens generated since the replica started
 */
public record ReplicaStatsReported(
        String replicaId,
        String model,
        int queued,
        int running,
        long kvBytesReserved,
        int sessions,
        long sessionBytes,
        long tokensGenerated,
        long reportedAtMillis) {}
