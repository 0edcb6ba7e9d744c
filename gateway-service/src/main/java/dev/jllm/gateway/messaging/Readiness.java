package dev.jllm.gateway.messaging;

import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaConsumerRebalanceListener;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;

import java.util.Collection;

/**
 * The gateway is ready once its generation-events consumer holds its partitions: a request accepted before
 * that could miss its first tokens (the consumer starts at the end of the topic).
 */
@ApplicationScoped
public class Readiness {
    private volatile boolean assigned;

    public boolean ready() {
        return assigned;
    }

    void assigned() {
        assigned = true;
    }

    /** Told by the Kafka consumer when it gets its partitions. */
    @ApplicationScoped
    @Identifier("generation-events-rebalance")
    public static class Listener implements KafkaConsumerRebalanceListener {
        @Inject Readiness readiness;

        @Override
        public void onPartitionsAssigned(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) return;
            // resolve "latest" now: until the position is fetched, an event written meanwhile would be skipped
            for (TopicPartition tp : partitions) consumer.position(tp);
            readiness.assigned();
        }
    }

    /** {@code /q/health/ready} is DOWN until then. */
    @ApplicationScoped
    @org.eclipse.microprofile.health.Readiness
    public static class Check implements HealthCheck {
        @Inject Readiness readiness;

        @Override
        public HealthCheckResponse call() {
            return HealthCheckResponse.named("generation-events-assigned").status(readiness.ready()).build();
        }
    }
}
