package dev.jllm.inference.messaging;

import dev.jllm.contracts.GenerationEvent;
import dev.jllm.contracts.RequestFailed;
import dev.jllm.contracts.TokenGenerated;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The requests this replica was handed and has not finished, by request id: what makes the inference commands
 * at-least-once. The consumer commits a request's offset only once its stage here completes, which is when the
 * request's final event (its last token or its error) was acknowledged by Kafka, or when the scheduler said it is
 * done with it without an event ({@code GenerationSink.dropped}). A replica that dies mid-generation therefore
 * leaves the command uncommitted, the next owner of the partition serves it again, and the gateway drops the
 * tokens it already sent by their index (a request without a seed samples with one derived from its id, so the
 * rerun samples the same tokens).
 *
 * <p>Written by the consumer thread ({@link #begin}), completed from the scheduler thread or the producer's I/O
 * thread ({@link #end}); bounded by the consumer's {@code max-pending} (its partitions pause beyond it).
 */
@ApplicationScoped
public class UncommittedRequests {
    private final ConcurrentHashMap<String, CompletableFuture<Void>> byId = new ConcurrentHashMap<>();

    /**
     * The stage of request {@code requestId}: new, after {@code handOver} ran, or, for a redelivery of a request still
     * in flight here, the first delivery's stage (nothing is handed over twice).
     */
    public CompletionStage<Void> begin(String requestId, Runnable handOver) {
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> first = byId.putIfAbsent(requestId, mine);
        if (first != null) return first;
        try {
            handOver.run(); // may end it at once (a full queue answers 429 on this thread)
        } catch (RuntimeException e) {
            byId.remove(requestId, mine);
            throw e;
        }
        return mine;
    }

    /** The request is done with: its offset may be committed. Unknown ids (already ended) are ignored. */
    public void end(String requestId) {
        CompletableFuture<Void> f = byId.remove(requestId);
        if (f != null) f.complete(null);
    }

    /** Requests handed over and not ended. */
    public int size() {
        return byId.size();
    }

    /** Whether {@code event} is the last one of its request: its last token, or its error. */
    public static boolean isFinal(GenerationEvent event) {
        return switch (event) {
            case TokenGenerated t -> t.isLast();
            case RequestFailed f -> true;
        };
    }
}
