package dev.jllm.inference.messaging;

import dev.jllm.contracts.GenerationEvent;
import dev.jllm.contracts.Topics;
import dev.jllm.batching.GenerationSink;
import dev.jllm.messaging.DirectSender;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import dev.jllm.messaging.PipelineTrace;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;
import org.jboss.logging.Logger;

/**
 * Generation events to Kafka, keyed by request id (one request's tokens stay in order): to generation-events, or
 * to job-generation-events for the job runner's requests ({@link Topics#generationEventsTopic}). Called on the scheduler
 * thread, which appends each record to the producer's buffer itself ({@link DirectSender}: one thread hand-off
 * fewer per token) and never waits for the broker.
 */
@ApplicationScoped
public class EventPublisher implements GenerationSink {
    private static final Logger LOG = Logger.getLogger(EventPublisher.class);

    @Inject
    @Channel("generation-events")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 65536)
    Emitter<GenerationEvent> events;

    @Inject KafkaClientService kafka;

    @Inject UncommittedRequests uncommitted;

    private DirectSender<GenerationEvent> sender;

    @PostConstruct
    void init() {
        sender = new DirectSender<>(kafka, "generation-events", events, Topics.JOB_GENERATION_EVENTS);
    }

    /** After the messaging layer started its channels (lowest priority), before the scheduler emits anything. */
    void warm(@Observes @Priority(Integer.MAX_VALUE) StartupEvent ev) {
        sender.warm();
    }

    /**
     * Sends an event. After a request's first event (its first token, or an error) the scheduler thread yields its
     * core once: the send woke the producer's I/O thread, and on a busy machine that thread otherwise waits for the
     * next decode steps to give the core up, so the first token reached the gateway after the answer's tail rather
     * than before it (this hop's median went from 3.5 to 1.8 ms on the shared 2-core VM, {@code bin/trace-report}).
     * Costs nothing when no other thread is runnable, and once per request.
     */
    @Override
    public void emit(GenerationEvent event) {
        boolean first = PipelineTrace.onPath(event) != null;
        if (first) PipelineTrace.mark(event.requestId(), PipelineTrace.FIRST_TOKEN);
        boolean last = UncommittedRequests.isFinal(event);
        sender.sendTo(Topics.generationEventsTopic(event.gatewayId()), event, event.requestId()).whenComplete((ok, e) -> {
            // the producer gave up only after its own retries (delivery.timeout.ms): the request is ended all the
            // same, as a rerun could not deliver either; the gateway's timeout answers the client
            if (e != null) LOG.errorf("could not send the event of %s: %s", event.requestId(), e.toString());
            if (last) uncommitted.end(event.requestId());
        });
        if (first) Thread.yield();
    }

    /** The scheduler ended a request without an event (a redelivered duplicate, a cancel before it ran). */
    @Override
    public void dropped(String requestId) {
        uncommitted.end(requestId);
    }
}
