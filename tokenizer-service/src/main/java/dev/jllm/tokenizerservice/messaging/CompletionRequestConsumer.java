package dev.jllm.tokenizerservice.messaging;

import dev.jllm.contracts.CompletionRequested;
import dev.jllm.contracts.GenerationEvent;
import dev.jllm.contracts.InferenceCommand;
import dev.jllm.contracts.PromptTokenized;
import dev.jllm.contracts.RequestFailed;
import dev.jllm.tokenizerservice.service.PromptEncoder;
import dev.jllm.tokenizerservice.service.RequestRejected;
import io.smallrye.reactive.messaging.annotations.Blocking;
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
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;
import org.jboss.logging.Logger;

import java.util.concurrent.CompletionStage;

/**
 * completion-requests -> inference-commands (or an error event to the gateway). Tokenizing and rendering a
 * template is CPU work of a millisecond or so: it runs on worker threads ({@code @Blocking(ordered = false)}),
 * several records at once, so one long prompt does not hold up the others. Turns of one conversation cannot
 * overtake each other: a client sends its next turn only after the previous answer, and cancels go straight to
 * inference. A record is acknowledged only once its result was accepted by the broker (at-least-once; the
 * inference side drops redelivered request ids).
 */
@ApplicationScoped
public class CompletionRequestConsumer {
    private static final Logger LOG = Logger.getLogger(CompletionRequestConsumer.class);

    @Inject PromptEncoder encoder;

    @Inject
    @Channel("inference-commands")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 4096)
    Emitter<InferenceCommand> commands;

    @Inject
    @Channel("generation-events")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 4096)
    Emitter<GenerationEvent> errors;

    @Inject KafkaClientService kafka;

    private DirectSender<InferenceCommand> commandSender;
    private DirectSender<GenerationEvent> errorSender;

    @PostConstruct
    void init() {
        commandSender = new DirectSender<>(kafka, "inference-commands", commands);
        errorSender = new DirectSender<>(kafka, "generation-events", errors);
    }

    /** After the messaging layer started its channels (lowest priority). */
    void warm(@Observes @Priority(Integer.MAX_VALUE) StartupEvent ev) {
        commandSender.warm();
        errorSender.warm();
    }

    @Incoming("completion-requests")
    @Blocking(ordered = false)
    public CompletionStage<Void> onRequest(Message<CompletionRequested> message) {
        CompletionRequested r = message.getPayload();
        if (r == null) return message.nack(new IllegalArgumentException("undeserializable completion request"));
        try {
            PipelineTrace.mark(r.requestId(), PipelineTrace.TOKENIZE_START);
            PromptTokenized p = encoder.encode(r);
            PipelineTrace.mark(r.requestId(), PipelineTrace.TOKENIZED);
            return settle(message, commandSender.send(p, p.conversationKey()));
        } catch (RequestRejected e) {
            return reject(message, r, new RequestFailed(r.requestId(), r.gatewayId(), e.status, "invalid_request_error",
                    e.getMessage(), e.param, e.code));
        } catch (RuntimeException e) {
            LOG.errorf(e, "could not prepare request %s", r.requestId());
            return reject(message, r, new RequestFailed(r.requestId(), r.gatewayId(), 500, "server_error",
                    "The request could not be prepared: " + e.getMessage(), null, null));
        }
    }

    private CompletionStage<Void> reject(Message<CompletionRequested> message, CompletionRequested r, RequestFailed f) {
        return settle(message, errorSender.send(f, r.requestId()));
    }

    /** Acknowledges the input once the output was accepted by the broker; nacks it (dead letter) otherwise. */
    private static CompletionStage<Void> settle(Message<?> in, CompletionStage<Void> sent) {
        return sent.handle((ok, err) -> err == null ? in.ack() : in.nack(err)).thenCompose(x -> x);
    }
}
