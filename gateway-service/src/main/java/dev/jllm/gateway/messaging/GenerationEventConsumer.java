package dev.jllm.gateway.messaging;

import dev.jllm.contracts.GenerationEvent;
import dev.jllm.gateway.service.InFlightRequests;
import dev.jllm.messaging.DirectConsumer;
import dev.jllm.messaging.DirectConsumers;
import dev.jllm.messaging.PipelineTrace;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;

import java.util.concurrent.CompletionStage;

/**
 * Reads every partition of the generation events (a consumer group of its own per gateway instance, from the end:
 * {@code jllm.kafka.incoming.generation-events.*}) and hands each event to the request it belongs to, if this
 * instance holds it. The consumer loop's own thread does the routing ({@link DirectConsumer}: no hop through a
 * Vert.x context of the messaging layer); the request's own Vert.x context does the writing. Nothing is committed:
 * a restarted instance holds none of the old requests.
 */
@ApplicationScoped
public class GenerationEventConsumer {

    @Inject InFlightRequests inFlight;
    @Inject Readiness readiness;

    private volatile DirectConsumer<GenerationEvent> consumer;

    void start(@Observes StartupEvent ev) {
        consumer = DirectConsumers.create("generation-events", new GenerationEventDeserializer(), this::onEvent,
                readiness::assigned).start();
    }

    void stop(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) ShutdownEvent ev) {
        if (consumer != null) consumer.close();
    }

    /** The consumer loop runs (readiness). */
    public boolean running() {
        return consumer != null && consumer.running();
    }

    CompletionStage<Void> onEvent(GenerationEvent event, String key) {
        if (PipelineTrace.enabled() && PipelineTrace.onPath(event) != null) {
            PipelineTrace.mark(event.requestId(), PipelineTrace.FIRST_EVENT_RECEIVED);
        }
        inFlight.dispatch(event);
        return null;
    }
}
