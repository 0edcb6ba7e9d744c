package dev.jllm.inference.messaging;

import dev.jllm.contracts.InferenceCommand;
import dev.jllm.contracts.PromptTokenized;
import dev.jllm.inference.service.InferenceEngine;
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

/**
 * Requests and cancels for this replica's partitions ({@code jllm.kafka.incoming.inference-commands.*}). The
 * consumer's own thread hands each command straight to the scheduler's bounded queue ({@link DirectConsumer}: no
 * hop through a Vert.x context); the forward pass runs on the scheduler's thread. A request's offset is committed
 * once the request is done with ({@link UncommittedRequests}: its final event was acknowledged, or the scheduler dropped
 * it), so a replica that dies mid-generation leaves it to the next owner; cancels and session deletions are done once
 * handed over.
 */
@ApplicationScoped
public class InferenceCommandConsumer {

    @Inject
    InferenceEngine engine;

    @Inject
    UncommittedRequests uncommitted;

    private volatile DirectConsumer<InferenceCommand> consumer;

    /** After the model is loaded (the engine starts at PLATFORM_BEFORE): no command finds it missing. */
    void start(@Observes @Priority(Interceptor.Priority.LIBRARY_BEFORE) StartupEvent ev) {
        consumer = DirectConsumers.create("inference-commands", new InferenceCommandDeserializer(), this::onCommand, null).start();
    }

    /** Before the scheduler closes: stop taking commands first. */
    void stop(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) ShutdownEvent ev) {
        if (consumer != null) consumer.close();
    }

    /** The consumer loop runs (readiness). */
    public boolean running() {
        return consumer != null && consumer.running();
    }

    java.util.concurrent.CompletionStage<Void> onCommand(InferenceCommand command, String key) {
        if (command instanceof PromptTokenized p) {
            PipelineTrace.mark(p.requestId(), PipelineTrace.COMMAND_RECEIVED);
            return uncommitted.begin(p.requestId(), () -> engine.scheduler().submit(p));
        }
        engine.scheduler().submit(command);
        return null; // a cancel or a deletion: done once handed over
    }
}
