package dev.jllm.inference.messaging;

import dev.jllm.batching.SchedulerStats;
import dev.jllm.contracts.ReplicaStatsReported;
import dev.jllm.inference.service.InferenceEngine;
import dev.jllm.messaging.KeyedSender;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;

import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Reports this replica's queue, batch and KV memory once a second, for the gateway's {@code /metrics}. Runs on
 * its own small daemon thread; reading the scheduler's stats is a volatile read, sending only enqueues.
 */
@ApplicationScoped
public class StatsReporter {
    static final long PERIOD_MS = 1000;

    @Inject InferenceEngine engine;

    @Inject
    @Channel("replica-stats")
    @OnOverflow(value = OnOverflow.Strategy.DROP)
    Emitter<ReplicaStatsReported> stats;

    private final String replicaId = "inference-" + UUID.randomUUID().toString().substring(0, 8);
    private ScheduledExecutorService timer;

    void onStart(@Observes @Priority(Integer.MAX_VALUE) StartupEvent ev) {
        timer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("replica-stats").daemon(true).unstarted(r));
        timer.scheduleAtFixedRate(this::report, PERIOD_MS, PERIOD_MS, TimeUnit.MILLISECONDS);
    }

    void onStop(@Observes ShutdownEvent ev) {
        if (timer != null) timer.shutdownNow();
    }

    private void report() {
        if (!engine.ready()) return;
        SchedulerStats s = engine.scheduler().stats();
        KeyedSender.send(stats, new ReplicaStatsReported(replicaId, engine.modelName(), s.queued(), s.running(), s.kvBytesReserved(),
                s.sessions(), s.sessionBytes(), s.tokensGenerated(), System.currentTimeMillis()), replicaId);
    }
}
