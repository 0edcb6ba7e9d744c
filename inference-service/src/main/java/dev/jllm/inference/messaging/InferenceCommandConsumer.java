package dev.jllm.inference.messaging;

import dev.jllm.contracts.InferenceCommand;
import dev.jllm.contracts.PromptTokenized;
import dev.jllm.messaging.PipelineTrace;
import dev.jllm.inference.service.InferenceEngine;
import io.smallrye.common.annotation.NonBlocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Requests and cancels for this replica's partitions. Non-blocking: the command is handed to the scheduler's
 * bounded queue and the consumer thread moves on (the forward pass runs on the scheduler's own thread).
 */
@ApplicationScoped
public class InferenceCommandConsumer {

    @Inject
    InferenceEngine engine;

    @Incoming("inference-commands")
    @NonBlocking
    public void onCommand(InferenceCommand command) {
        if (command == null) return; // undeserializable: sent to the dead-letter topic by the connector
        if (command instanceof PromptTokenized p) PipelineTrace.mark(p.requestId(), PipelineTrace.COMMAND_RECEIVED);
        engine.scheduler().submit(command);
    }
}
