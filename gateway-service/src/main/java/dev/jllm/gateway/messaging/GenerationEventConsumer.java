package dev.jllm.gateway.messaging;

import dev.jllm.contracts.GenerationEvent;
import dev.jllm.gateway.service.InFlightRequests;
import dev.jllm.messaging.PipelineTrace;
import io.smallrye.common.annotation.NonBlocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Reads every partition of the generation events (a consumer group of its own per gateway instance) and hands
 * each event to the request it belongs to, if this instance holds it. Non-blocking: runs on the Kafka
 * consumer's thread; the request's own Vert.x context does the writing.
 */
@ApplicationScoped
public class GenerationEventConsumer {

    @Inject
    InFlightRequests inFlight;

    @Incoming("generation-events")
    @NonBlocking
    public void onEvent(GenerationEvent event) {
        if (event == null) return; // undeserializable: already reported by the failure handler
        if (PipelineTrace.enabled() && PipelineTrace.onPath(event) != null) {
            PipelineTrace.mark(event.requestId(), PipelineTrace.FIRST_EVENT_RECEIVED);
        }
        inFlight.dispatch(event);
    }
}
