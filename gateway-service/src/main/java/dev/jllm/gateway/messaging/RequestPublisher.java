package dev.jllm.gateway.messaging;

import dev.jllm.contracts.CompletionRequested;
import dev.jllm.contracts.GenerationCancelled;
import dev.jllm.contracts.InferenceCommand;
import dev.jllm.contracts.Topics;
import dev.jllm.messaging.KeyedSender;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;

import java.util.concurrent.CompletionStage;

/**
 * Produces the gateway's records. Sends are asynchronous (the event loop never waits on Kafka); the returned
 * stage completes when the broker acknowledged, so a failed send becomes an error response, not a silent hang.
 */
@ApplicationScoped
public class RequestPublisher {

    @Inject
    @Channel("completion-requests")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 1024)
    Emitter<CompletionRequested> requests;

    @Inject
    @Channel("inference-cancels")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 1024)
    Emitter<InferenceCommand> cancels;

    /** Keyed by the conversation, so all turns of one conversation stay in order (see {@link Topics}). */
    public CompletionStage<Void> publish(CompletionRequested request) {
        return KeyedSender.send(requests, request, request.conversationKey());
    }

    /** Keyed by the session: it reaches the replica that holds the session's hot cache, behind its turns. */
    public CompletionStage<Void> sessionDeleted(dev.jllm.contracts.SessionDeleted deleted) {
        return KeyedSender.send(cancels, deleted, deleted.conversationKey());
    }

    /** Same key as the request: the cancel lands on the partition, hence the replica, that owns the sequence. */
    public CompletionStage<Void> cancel(GenerationCancelled cancel) {
        return KeyedSender.send(cancels, cancel, cancel.conversationKey());
    }
}
