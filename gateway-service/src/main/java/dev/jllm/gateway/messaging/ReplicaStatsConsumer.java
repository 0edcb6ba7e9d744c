package dev.jllm.gateway.messaging;

import dev.jllm.contracts.ReplicaStatsReported;
import dev.jllm.gateway.service.ReplicaStatsBoard;
import io.smallrye.common.annotation.NonBlocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/** Keeps the latest report of every inference replica (non-blocking: a map update on the consumer thread). */
@ApplicationScoped
public class ReplicaStatsConsumer {
    @Inject ReplicaStatsBoard board;

    @Incoming("replica-stats")
    @NonBlocking
    public void onStats(ReplicaStatsReported stats) {
        if (stats != null) board.update(stats);
    }
}
