package dev.jllm.gateway.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jllm.contracts.FinishReason;
import dev.jllm.messaging.PipelineTrace;
import dev.jllm.contracts.GenerationCancelled;
import dev.jllm.contracts.GenerationEvent;
import dev.jllm.contracts.RequestFailed;
import dev.jllm.contracts.TokenGenerated;
import dev.jllm.contracts.TokenLogprob;
import dev.jllm.gateway.config.GatewayConfig;
import dev.jllm.gateway.messaging.RequestPublisher;
import dev.jllm.gateway.service.GatewayMetrics;
import dev.jllm.gateway.service.GenerationListener;
import dev.jllm.gateway.service.InFlightRequests;
import dev.jllm.gateway.service.SessionServiceClient;
import dev.jllm.openai.ApiError;
import dev.jllm.openai.OpenAiFormat;
import dev.jllm.openai.ParsedRequest;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;

/**
 * One client request from acceptance to its last byte. All state changes happen on the request's Vert.x
 * context (events arrive on the Kafka consumer thread and hop here), so no locking is needed.
 *
 * <p>Headers are sent with the first event: an error that happens before any token (bad prompt, context too
 * long, timeout) is still a proper HTTP status; one that happens after is an SSE error event that ends the
 * stream. Every wait is bounded by a timer.
 */
final class Exchange implements GenerationListener {
    record Deps(Vertx vertx, ObjectMapper mapper, GatewayConfig config, InFlightRequests inFlight,
                RequestPublisher publisher, GatewayMetrics metrics, SessionServiceClient sessions) {}
    private static final Logger LOG = Logger.getLogger(Exchange.class);

    private final Deps deps;
    private final Context context;
    private final HttpServerResponse response;
    private final ParsedRequest req;
    /** The session id as the client named it (the request carries it scoped by API key), or null. */
    private final String clientSessionId;
    /** The session's owner: SHA-256 of the API key, '' without keys. */
    private final String owner;
    private final OpenAiFormat format;
    private final long acceptedNanos = System.nanoTime();

    private boolean headersSent;
    private boolean done;
    private int nextIndex;
    private long lastEventNanos;
    private long timerId = -1;
    /** When the armed timer fires (System.nanoTime); Long.MAX_VALUE when none is armed. */
    private long timerFiresNanos = Long.MAX_VALUE;
    /** The end of the current wait, how long it is, and whether it is the wait for the first token. */
    private long deadlineNanos;
    private long waitMillis;
    private boolean awaitingFirst;
    private int completionTokens;
    private final StringBuilder text = new StringBuilder();
    private final List<TokenLogprob> logprobs;

    Exchange(Deps deps, Context context, HttpServerResponse response, ParsedRequest req, String clientSessionId, String owner) {
        this.deps = deps;
        this.context = context;
        this.response = response;
        this.req = req;
        this.clientSessionId = clientSessionId;
        this.owner = owner;
        this.format = new OpenAiFormat(req.request().requestId(), req.request().model(),
                req.request().createdAtMillis() / 1000, req.chat(), req.includeUsage());
        this.logprobs = req.request().params().logprobs() ? new ArrayList<>() : null;
        if (req.echo() && req.request().prompt() != null) text.append(req.request().prompt());
    }

    /** Registers, arms the first-token timer, then produces the request. Runs on the event loop. */
    void start() {
        String id = req.request().requestId();
        if (!deps.inFlight().register(id, this)) {
            done = true;
            deps.metrics().outcome("error_429");
            Routes.sendError(response, new ApiError(429, "rate_limit_exceeded",
                    "The server is handling as many requests as it can; retry shortly.", null, "rate_limit_exceeded"));
            return;
        }
        arm(deps.config().firstTokenTimeout().toMillis(), true);
        response.closeHandler(v -> onClientGone());
        if (response.closed()) { // gone while its body was read: nothing was produced, nothing to cancel
            done = true;
            cleanup();
            deps.metrics().outcome("cancelled");
            return;
        }
        deps.publisher().publish(req.request()).whenComplete((ok, err) -> {
            if (err != null) context.runOnContext(x -> fail(new ApiError(503, "service_unavailable",
                    "The request could not be queued: " + err.getMessage(), null, "kafka_unavailable")));
        });
    }

    @Override
    public void onEvent(GenerationEvent event) {
        context.runOnContext(v -> handle(event));
    }

    private void handle(GenerationEvent event) {
        if (done) return;
        switch (event) {
            case RequestFailed f -> fail(new ApiError(f.status() >= 400 && f.status() <= 599 ? f.status() : 500, // never an invalid status line
                    f.type() != null ? f.type() : "server_error", f.message(), f.param(), f.code()));
            case TokenGenerated t -> token(t);
        }
    }

    private void token(TokenGenerated t) {
        if (t.index() < nextIndex) return; // a redelivered duplicate: already sent
        nextIndex = t.index() + 1;
        long now = System.nanoTime();
        if (lastEventNanos == 0) deps.metrics().firstToken(now - acceptedNanos);
        else deps.metrics().interToken(now - lastEventNanos);
        lastEventNanos = now;
        if (t.tokenId() >= 0) completionTokens++;
        if (!t.isLast()) arm(deps.config().interTokenTimeout().toMillis(), false);

        if (req.stream()) {
            if (!headersSent) {
                sendStreamHeaders();
                if (req.chat()) write(format.chunk(true, "", null, null));
                else if (req.echo() && req.request().prompt() != null) write(format.chunk(false, req.request().prompt(), null, null));
            }
            boolean hasText = t.text() != null && !t.text().isEmpty();
            if (hasText && clientSessionId != null) text.append(t.text()); // the reply, recorded with the turn
            if (hasText || t.logprob() != null) {
                write(format.chunk(false, hasText ? t.text() : "", t.logprob(), null));
            }
            if (t.index() == 0) PipelineTrace.mark(t.requestId(), PipelineTrace.FIRST_CHUNK_WRITTEN);
            if (t.isLast()) {
                write(format.chunk(false, null, null, t.finishReason()));
                if (req.includeUsage() && t.usage() != null) write(format.usageChunk(t.usage()));
                finish(t.finishReason().wire(), t);
                afterTurnRecorded(t, () -> response.end("data: [DONE]\n\n"));
            } else if (response.writeQueueFull()) { // more than maxClientBacklogBytes queued
                cancel("client reads too slowly");
                sendStreamError(new ApiError(500, "server_error", "The client did not read the stream fast enough.", null, "client_too_slow"));
            }
        } else {
            if (t.text() != null) text.append(t.text());
            if (logprobs != null && t.logprob() != null) logprobs.add(t.logprob());
            if (t.isLast()) {
                ObjectNode body = format.complete(text.toString(), logprobs, t.finishReason(), t.usage());
                finish(t.finishReason().wire(), t);
                if (clientSessionId != null) response.putHeader("X-Session-Id", clientSessionId);
                afterTurnRecorded(t, () -> response.putHeader("Content-Type", "application/json").end(Buffer.buffer(json(body))));
            }
        }
    }

    /**
     * For a session's turn: records it in session-service (the request's messages and the reply; a legacy
     * completion only claims the session for its owner), then runs {@code last}, which completes the response,
     * so that the client's next turn finds it. The wait is bounded; a failure is logged and counted, and the
     * answer goes out all the same.
     */
    private void afterTurnRecorded(TokenGenerated last, Runnable complete) {
        Runnable then = () -> {
            if (!response.ended() && !response.closed()) complete.run();
        };
        if (clientSessionId == null) {
            then.run();
            return;
        }
        ObjectNode turn = deps.mapper().createObjectNode();
        turn.put("owner", owner);
        turn.put("model", req.request().model());
        if (req.chat()) {
            turn.set("messages", deps.mapper().valueToTree(req.request().messages()));
            turn.put("reply", text.toString());
        }
        if (last.usage() != null) turn.put("token_count", last.usage().promptTokens() + last.usage().completionTokens());
        deps.sessions().call(HttpMethod.PUT, req.request().sessionId(), "/turn", null, Buffer.buffer(json(turn)),
                deps.config().sessionServiceTimeout().toMillis()).onComplete(ar -> context.runOnContext(v -> {
            if (ar.failed() || ar.result().status() != 200) {
                deps.sessions().storeFailed();
                LOG.warnf("turn %s of a session was not recorded: %s", req.request().requestId(),
                        ar.failed() ? ar.cause().toString() : ar.result().status() + " " + ar.result().body());
            }
            then.run();
        }));
    }

    private void sendStreamHeaders() {
        headersSent = true;
        response.setStatusCode(200).setChunked(true)
                .putHeader("Content-Type", "text/event-stream; charset=utf-8")
                .putHeader("Cache-Control", "no-cache")
                .putHeader("X-Accel-Buffering", "no")
                .putHeader("X-Request-Id", req.request().requestId());
        if (clientSessionId != null) response.putHeader("X-Session-Id", clientSessionId);
        response.setWriteQueueMaxSize(deps.config().maxClientBacklogBytes());
    }

    private void write(ObjectNode chunk) {
        response.write("data: " + json(chunk) + "\n\n");
    }

    private String json(ObjectNode node) {
        try {
            return deps.mapper().writeValueAsString(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Ends the request with an error: an HTTP status before the first byte, an SSE error event after. */
    private void fail(ApiError error) {
        if (done) return;
        if (headersSent) {
            sendStreamError(error);
        } else {
            done = true;
            cleanup();
            deps.metrics().outcome("error_" + error.status);
            if (!response.ended() && !response.closed()) Routes.sendError(response, error);
        }
    }

    private void sendStreamError(ApiError error) {
        done = true;
        cleanup();
        deps.metrics().outcome("error_" + error.status);
        if (!response.ended() && !response.closed()) {
            response.write("event: error\ndata: " + json(error.toJson()) + "\n\n");
            response.write("data: [DONE]\n\n");
            response.end();
        }
    }

    private void finish(String outcome, TokenGenerated last) {
        done = true;
        cleanup();
        int prompt = last.usage() == null ? 0 : last.usage().promptTokens();
        deps.metrics().finished(outcome, System.nanoTime() - acceptedNanos, completionTokens, prompt);
    }

    /**
     * Starts the wait for the first token, or (first = false) moves the deadline of the wait for the next one to
     * {@code millis} from now. Tokens come far more often than a timeout fires, so one timer serves the whole
     * request: it is re-armed only when it fires before the deadline (then for the time left) or when the new
     * deadline is earlier than the armed one (after the first token, if the inter-token timeout is the shorter).
     * A token costs a clock read rather than a timer cancel and a new timer on the event loop.
     */
    private void arm(long millis, boolean first) {
        awaitingFirst = first;
        waitMillis = millis;
        deadlineNanos = System.nanoTime() + millis * 1_000_000;
        if (deadlineNanos < timerFiresNanos) armTimer(millis);
    }

    private void armTimer(long millis) {
        if (timerId >= 0) deps.vertx().cancelTimer(timerId);
        timerFiresNanos = System.nanoTime() + millis * 1_000_000;
        timerId = deps.vertx().setTimer(Math.max(1, millis), id -> context.runOnContext(v -> onTimer(id)));
    }

    private void onTimer(long id) {
        if (done || id != timerId) return;
        timerId = -1;
        timerFiresNanos = Long.MAX_VALUE;
        long left = deadlineNanos - System.nanoTime();
        if (left > 0) {
            armTimer((left + 999_999) / 1_000_000);
            return;
        }
        cancel(awaitingFirst ? "no first token in time" : "generation stalled");
        fail(awaitingFirst
                ? new ApiError(504, "timeout", "No token was generated within " + waitMillis + " ms; the request was cancelled.", null, "first_token_timeout")
                : new ApiError(504, "timeout", "The generation stalled for " + waitMillis + " ms and was cancelled.", null, "inter_token_timeout"));
    }

    private void onClientGone() {
        if (done) return;
        done = true;
        cleanup();
        deps.metrics().outcome("cancelled");
        cancel("client disconnected");
    }

    private void cancel(String reason) {
        deps.publisher().cancel(new GenerationCancelled(req.request().requestId(), req.request().conversationKey(), reason));
    }

    private void cleanup() {
        if (timerId >= 0) deps.vertx().cancelTimer(timerId);
        timerId = -1;
        timerFiresNanos = Long.MAX_VALUE;
        deps.inFlight().remove(req.request().requestId());
    }
}
