package dev.jllm.gateway.service;

import dev.jllm.contracts.ReplicaStatsReported;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToLongFunction;

/**
 * The latest report of each inference replica; gauges sum the reports younger than {@link #FRESH_MS} (a
 * replica that stopped reporting drops out instead of freezing the figures).
 */
@ApplicationScoped
public class ReplicaStatsBoard {
    static final long FRESH_MS = 10_000;
    /** Bounds the map: replicas come and go with ids of their own. */
    static final int MAX_REPLICAS = 1024;

    private final ConcurrentHashMap<String, ReplicaStatsReported> latest = new ConcurrentHashMap<>();

    public void update(ReplicaStatsReported s) {
        if (latest.size() >= MAX_REPLICAS && !latest.containsKey(s.replicaId())) prune(System.currentTimeMillis());
        if (latest.size() < MAX_REPLICAS || latest.containsKey(s.replicaId())) latest.put(s.replicaId(), s);
    }

    private void prune(long now) {
        latest.values().removeIf(s -> now - s.reportedAtMillis() > FRESH_MS);
    }

    long sum(ToLongFunction<ReplicaStatsReported> f) {
        long now = System.currentTimeMillis();
        long total = 0;
        for (ReplicaStatsReported s : latest.values()) if (now - s.reportedAtMillis() <= FRESH_MS) total += f.applyAsLong(s);
        return total;
    }

    public long queued() { return sum(ReplicaStatsReported::queued); }
    public long running() { return sum(ReplicaStatsReported::running); }
    public long kvBytes() { return sum(ReplicaStatsReported::kvBytesReserved); }
    public long sessionBytes() { return sum(ReplicaStatsReported::sessionBytes); }
    public long replicas() { return sum(s -> 1); }
}
