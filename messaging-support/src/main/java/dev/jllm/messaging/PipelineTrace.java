package dev.jllm.messaging;

import dev.jllm.contracts.CompletionRequested;
import dev.jllm.contracts.GenerationEvent;
import dev.jllm.contracts.PromptTokenized;
import dev.jllm.contracts.TokenGenerated;
import org.jboss.logging.Logger;

import java.time.Instant;

/**
 * Where a request's time to first token goes, hop by hop. Off by default; with the log category
 * {@code jllm.trace} at DEBUG ({@code -Dquarkus.log.category.\"jllm.trace\".level=DEBUG}, or
 * {@code JLLM_TRACE=1 ./stack up}) each service logs one line per stage of a request's path to its first token:
 * {@code trace <requestId> <stage> <epoch microseconds>}. The services of one machine share the wall clock, so
 * {@code bin/trace-report} joins their logs into a per-stage breakdown. When off, a mark costs one level check.
 *
 * <p>Stages, in path order: {@link #REQUEST_PARSED}, then the Kafka client's
 * {@code sent:<topic>} / {@code polled:<topic>} (from {@link PipelineTraceInterceptor}, or {@link DirectConsumer}) around each hop,
 * {@link #TOKENIZE_START}, {@link #TOKENIZED}, {@link #COMMAND_RECEIVED}, {@link #FIRST_TOKEN},
 * {@link #FIRST_EVENT_RECEIVED}, {@link #FIRST_CHUNK_WRITTEN}.
 */
public final class PipelineTrace {
    private static final Logger LOG = Logger.getLogger("jllm.trace");

    public static final String REQUEST_PARSED = "gateway.request-parsed";
    public static final String TOKENIZE_START = "tokenizer.start";
    public static final String TOKENIZED = "tokenizer.done";
    public static final String COMMAND_RECEIVED = "inference.command-received";
    public static final String FIRST_TOKEN = "inference.first-token";
    public static final String FIRST_EVENT_RECEIVED = "gateway.first-event-received";
    public static final String FIRST_CHUNK_WRITTEN = "gateway.first-chunk-written";

    private PipelineTrace() {}

    public static boolean enabled() {
        return LOG.isDebugEnabled();
    }

    public static void mark(String requestId, String stage) {
        if (!LOG.isDebugEnabled() || requestId == null) return;
        Instant now = Instant.now(); // microsecond resolution on Linux, comparable across processes
        LOG.debugf("trace %s %s %d", requestId, stage, now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000);
    }

    /** The request a record belongs to when it is on the path to the first token; null otherwise. */
    public static String onPath(Object value) {
        return switch (value) {
            case CompletionRequested r -> r.requestId();
            case PromptTokenized p -> p.requestId();
            case TokenGenerated t -> t.index() == 0 ? t.requestId() : null;
            case GenerationEvent e -> e.requestId(); // an error before any token
            case null, default -> null;
        };
    }
}
