package dev.jllm.session.messaging;

import dev.jllm.contracts.CompletionRequested;
import dev.jllm.contracts.GenerationCancelled;
import dev.jllm.contracts.InferenceCommand;
import dev.jllm.contracts.JobEvent;
import dev.jllm.messaging.KeyedSender;
import dev.jllm.session.service.JobRunner;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;

import java.util.concurrent.CompletionStage;

/**
 * What the job runner produces: item requests (as the gateway does, keyed by their request id), cancels of
 * attempts (same key, so they reach the replica running them), and results keyed by job id. Sends never block;
 * each stage completes with the broker's acknowledgement.
 */
@ApplicationScoped
public class JobPipeline implements JobRunner.Pipeline {

    @Inject
    @Channel("job-completion-requests")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 1024)
    Emitter<CompletionRequested> requests;

    @Inject
    @Channel("job-cancels")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 1024)
    Emitter<InferenceCommand> cancels;

    @Inject
    @Channel("job-results")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 4096)
    Emitter<JobEvent> results;

    @Override
    public CompletionStage<Void> submit(CompletionRequested request) {
        return KeyedSender.send(requests, request, request.conversationKey());
    }

    @Override
    public CompletionStage<Void> cancel(GenerationCancelled cancel) {
        return KeyedSender.send(cancels, cancel, cancel.conversationKey());
    }

    @Override
    public CompletionStage<Void> publish(JobEvent event) {
        return KeyedSender.send(results, event, event.jobId());
    }
}
