package dev.jllm.gateway.messaging;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;

/**
 * The gateway is ready once its generation-events consumer holds its partitions and has resolved their positions
 * (told by {@link GenerationEventConsumer}'s loop): a request accepted before that could miss its first tokens
 * (the consumer starts at the end of the topic).
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

    /** {@code /q/health/ready} is DOWN until then, and again if the consumer loop ends. */
    @ApplicationScoped
    @org.eclipse.microprofile.health.Readiness
    public static class Check implements HealthCheck {
        @Inject Readiness readiness;
        @Inject GenerationEventConsumer events;

        @Override
        public HealthCheckResponse call() {
            return HealthCheckResponse.named("generation-events-assigned").status(readiness.ready() && events.running()).build();
        }
    }
}
