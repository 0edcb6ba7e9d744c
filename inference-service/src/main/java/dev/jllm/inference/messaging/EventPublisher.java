package dev.jllm.inference.messaging;

import dev.jllm.contracts.GenerationEvent;
import dev.jllm.batching.GenerationSink;
import dev.jllm.messaging.KeyedSender;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;
import org.jboss.logging.Logger;

/**
 * Generation events to Kafka, keyed by request id (one request's tokens stay in order). Called on the scheduler
 * thread; {@link Emitter#send} only enqueues, so the scheduler never waits for the broker.
 */
@ApplicationScoped
public class EventPublisher implements GenerationSink {
    private static final Logger LOG = Logger.getLogger(EventPublisher.class);

    @Inject
    @Channel("generation-events")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 65536)
    Emitter<GenerationEvent> events;

    @Override
    public void emit(GenerationEvent event) {
        KeyedSender.send(events, event, event.requestId()).whenComplete((ok, e) -> {
            if (e != null) LOG.errorf("could not send the event of %s: %s", event.requestId(), e.toString());
        });
    }
}
