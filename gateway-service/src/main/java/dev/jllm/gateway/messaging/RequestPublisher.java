package dev.jllm.gateway.messaging;

import dev.jllm.contracts.CompletionRequested;
import dev.jllm.contracts.GenerationCancelled;
import dev.jllm.contracts.InferenceCommand;
import dev.jllm.contracts.Topics;
import dev.jllm.messaging.DirectSender;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;

import java.util.concurrent.CompletionStage;

/**
 * Produces the gateway's records. Sends are asynchronous (the event loop never waits on Kafka: {@link DirectSender}
 * appends to the producer's buffer on the calling event loop); the returned stage completes when the broker
 * acknowledged, so a failed send becomes an error response, not a silent hang.
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

    @Inject KafkaClientService kafka;

    private DirectSender<CompletionRequested> requestSender;
    private DirectSender<InferenceCommand> commandSender;

    @PostConstruct
    void init() {
        requestSender = new DirectSender<>(kafka, "completion-requests", requests);
        commandSender = new DirectSender<>(kafka, "inference-cancels", cancels);
    }

    /** After the messaging layer started its channels (lowest priority), before the first request. */
    void warm(@Observes @Priority(Integer.MAX_VALUE) StartupEvent ev) {
        requestSender.warm();
        commandSender.warm();
    }

    /** Keyed by the conversation, so all turns of one conversation stay in order (see {@link Topics}). */
    public CompletionStage<Void> publish(CompletionRequested request) {
        return requestSender.send(request, request.conversationKey());
    }

    /** Keyed by the session: it reaches the replica that holds the session's hot cache, behind its turns. */
    public CompletionStage<Void> sessionDeleted(dev.jllm.contracts.SessionDeleted deleted) {
        return commandSender.send(deleted, deleted.conversationKey());
    }

    /** Same key as the request: the cancel lands on the partition, hence the replica, that owns the sequence. */
    public CompletionStage<Void> cancel(GenerationCancelled cancel) {
        return commandSender.send(cancel, cancel.conversationKey());
    }
}
