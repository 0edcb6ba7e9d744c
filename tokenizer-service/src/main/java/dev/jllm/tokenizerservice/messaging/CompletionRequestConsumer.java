package dev.jllm.tokenizerservice.messaging;

import dev.jllm.contracts.CompletionRequested;
import dev.jllm.contracts.GenerationEvent;
import dev.jllm.contracts.InferenceCommand;
import dev.jllm.contracts.PromptTokenized;
import dev.jllm.contracts.RequestFailed;
import dev.jllm.contracts.Topics;
import dev.jllm.messaging.DirectConsumer;
import dev.jllm.messaging.DirectConsumers;
import dev.jllm.messaging.DirectSender;
import dev.jllm.messaging.PipelineTrace;
import dev.jllm.tokenizerservice.service.PromptEncoder;
import dev.jllm.tokenizerservice.service.RequestRejected;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;
import org.jboss.logging.Logger;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * completion-requests -> inference-commands (or an error event to the gateway). Read by a consumer loop of our own
 * ({@link DirectConsumer}, {@code jllm.kafka.incoming.completion-requests.*}). A short request without a session
 * (at most {@link #INLINE_CHARS} characters of text: tokenizing it takes well under a millisecond) is prepared on
 * the consumer's thread itself, with no hand-off; a longer one, or a session's turn (its conversation may have to
 * be fetched from session-service), goes to a bounded pool of worker threads, so that one long prompt does not hold
 * up the others. Turns of one conversation cannot overtake each other: a client sends its next turn only after the
 * previous answer, and cancels go straight to inference. A record's offset is committed only once its result was
 * accepted by the broker (at-least-once; the inference side drops redelivered request ids); a record that cannot
 * be read or whose result cannot be sent goes to the dead-letter topic with the reason.
 */
@ApplicationScoped
public class CompletionRequestConsumer {
    private static final Logger LOG = Logger.getLogger(CompletionRequestConsumer.class);
    /** Requests with at most this much text (prompt or messages) and no session are prepared on the consumer's thread. */
    static final int INLINE_CHARS = 4096;
    private static final int WORKERS = 8;
    private static final int WORKER_QUEUE = 1024;

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
    /** Long prompts and sessions' turns; when full, the consumer's thread prepares the request itself (back-pressure). */
    private final ThreadPoolExecutor workers = new ThreadPoolExecutor(WORKERS, WORKERS, 60, TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(WORKER_QUEUE), Thread.ofPlatform().name("tokenizer-worker-", 0).daemon(true).factory(),
            new ThreadPoolExecutor.CallerRunsPolicy());
    private volatile DirectConsumer<CompletionRequested> consumer;

    @PostConstruct
    void init() {
        commandSender = new DirectSender<>(kafka, "inference-commands", commands);
        errorSender = new DirectSender<>(kafka, "generation-events", errors, Topics.JOB_GENERATION_EVENTS);
    }

    /** After the messaging layer started its channels (lowest priority): the senders first, then the consumer. */
    void start(@Observes @Priority(Integer.MAX_VALUE) StartupEvent ev) {
        commandSender.warm();
        errorSender.warm();
        consumer = DirectConsumers.create("completion-requests", new CompletionRequestDeserializer(), this::onRequest, null).start();
    }

    /** Stops reading first; the workers finish what they hold (bounded). */
    void stop(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) ShutdownEvent ev) {
        if (consumer != null) consumer.close();
        workers.shutdown();
        try {
            workers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The consumer loop runs (readiness). */
    public boolean running() {
        return consumer != null && consumer.running();
    }

    CompletionStage<Void> onRequest(CompletionRequested r, String key) {
        if (r.sessionId() == null && textLength(r) <= INLINE_CHARS) return prepare(r);
        return CompletableFuture.supplyAsync(() -> prepare(r), workers).thenCompose(sent -> sent);
    }

    private static int textLength(CompletionRequested r) {
        int n = r.prompt() == null ? 0 : r.prompt().length();
        if (r.messages() != null) {
            for (var m : r.messages()) n += m.content() == null ? 0 : m.content().length();
        }
        return n;
    }

    /** Tokenizes and sends; the stage completes when the result (or the error event) was accepted by the broker. */
    private CompletionStage<Void> prepare(CompletionRequested r) {
        try {
            PipelineTrace.mark(r.requestId(), PipelineTrace.TOKENIZE_START);
            PromptTokenized p = encoder.encode(r);
            PipelineTrace.mark(r.requestId(), PipelineTrace.TOKENIZED);
            return commandSender.send(p, p.conversationKey());
        } catch (RequestRejected e) {
            return reject(r, new RequestFailed(r.requestId(), r.gatewayId(), e.status, "invalid_request_error",
                    e.getMessage(), e.param, e.code));
        } catch (RuntimeException e) {
            LOG.errorf(e, "could not prepare request %s", r.requestId());
            return reject(r, new RequestFailed(r.requestId(), r.gatewayId(), 500, "server_error",
                    "The request could not be prepared: " + e.getMessage(), null, null));
        }
    }

    private CompletionStage<Void> reject(CompletionRequested r, RequestFailed f) {
        return errorSender.sendTo(Topics.generationEventsTopic(f.gatewayId()), f, r.requestId());
    }
}
