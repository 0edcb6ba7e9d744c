package dev.jllm.gateway.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jllm.contracts.CompletionRequested;
import dev.jllm.gateway.config.GatewayConfig;
import dev.jllm.contracts.SessionDeleted;
import dev.jllm.gateway.messaging.RequestPublisher;
import dev.jllm.gateway.service.SessionServiceClient;
import dev.jllm.openai.ApiError;
import dev.jllm.openai.ParsedRequest;
import dev.jllm.openai.RequestParser;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * {@code GET/DELETE /v1/sessions/{id}}, and the scoping of session ids by API key. With API keys configured a
 * client's session id {@code s} is {@code <first 16 hex digits of SHA-256(key)>:s} inside the stack (Kafka key,
 * inference caches, session-service), so another key's turns can never reach or extend this session's cache,
 * and its owner is the key's full SHA-256: another key gets 404. Clients only ever see their own id. Without
 * keys ids are used as given and the owner is ''.
 */
@ApplicationScoped
public class SessionRoutes {
    private static final Logger LOG = Logger.getLogger(SessionRoutes.class);
    /** Longest session id a client may use (as RequestParser). */
    static final int MAX_SESSION_ID = 128;
    /** Largest {@code POST /v1/sessions} body ({@code {"model": ...}}). */
    static final int MAX_CREATE_BODY = 4096;

    @Inject SessionServiceClient sessions;
    @Inject RequestPublisher publisher;
    @Inject GatewayConfig config;
    @Inject ObjectMapper mapper;

    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    void init(@Observes Router router) {
        router.post("/v1/sessions").handler(io.vertx.ext.web.handler.BodyHandler.create(false).setBodyLimit(MAX_CREATE_BODY))
                .handler(this::create).failureHandler(rc -> Routes.bodyFailure(rc, "The body is larger than " + MAX_CREATE_BODY + " bytes."));
        router.get("/v1/sessions/:id").handler(rc -> forward(rc, HttpMethod.GET));
        router.delete("/v1/sessions/:id").handler(rc -> forward(rc, HttpMethod.DELETE));
    }

    /** The owner recorded for sessions of this key: its SHA-256 (hex), or '' when keys are off. */
    static String owner(String apiKey) {
        return apiKey == null ? "" : sha256(apiKey);
    }

    /** The id a client's session has inside the stack. */
    static String internalId(String apiKey, String clientId) {
        return apiKey == null ? clientId : sha256(apiKey).substring(0, 16) + ":" + clientId;
    }

    /** The request with its session id (and so its Kafka key) scoped by the caller's key. */
    static ParsedRequest scoped(ParsedRequest p, String apiKey) {
        CompletionRequested r = p.request();
        if (r.sessionId() == null || apiKey == null) return p;
        String id = internalId(apiKey, r.sessionId());
        return new ParsedRequest(new CompletionRequested(r.requestId(), r.gatewayId(), id, id, r.model(), r.messages(),
                r.prompt(), r.params(), r.stop(), r.priority(), r.createdAtMillis()), p.chat(), p.stream(), p.includeUsage(), p.echo());
    }

    /**
     * {@code POST /v1/sessions} [{@code {"model": "..."}}]: a new session with an id the gateway chooses
     * ({@code sess_} + 24 random hex digits), owned by the caller's key; the client names it in later turns.
     */
    private void create(RoutingContext rc) {
        String model;
        try {
            Buffer body = rc.body().buffer();
            com.fasterxml.jackson.databind.JsonNode node = body == null || body.length() == 0 ? mapper.createObjectNode() : mapper.readTree(body.getBytes());
            if (!node.isObject()) throw new IOException("not an object");
            com.fasterxml.jackson.databind.JsonNode m = node.get("model");
            if (m != null && !m.isNull() && !m.isTextual()) {
                Routes.sendError(rc.response(), ApiError.invalid("'model' must be a string.", "model"));
                return;
            }
            model = m == null || m.isNull() ? config.models().getFirst() : m.asText();
        } catch (IOException e) {
            Routes.sendError(rc.response(), ApiError.invalid("The body must be a JSON object (or empty).", null));
            return;
        }
        if (!config.models().contains(model)) {
            Routes.sendError(rc.response(), new ApiError(404, "invalid_request_error",
                    "The model `" + model + "` does not exist or you do not have access to it.", "model", "model_not_found"));
            return;
        }
        byte[] random = new byte[12];
        RANDOM.nextBytes(random);
        String id = "sess_" + HexFormat.of().formatHex(random);
        String apiKey = rc.get("apiKey");
        ObjectNode turn = mapper.createObjectNode().put("owner", owner(apiKey)).put("model", model).put("token_count", 0);
        sessions.call(HttpMethod.PUT, internalId(apiKey, id), "/turn", null, Buffer.buffer(turn.toString()),
                config.sessionServiceTimeout().toMillis()).onComplete(ar -> {
                    if (ar.failed() || ar.result().status() != 200) {
                        LOG.warnf("session-service could not create a session: %s",
                                ar.failed() ? ar.cause().toString() : ar.result().status() + " " + ar.result().body());
                        Routes.sendError(rc.response(), new ApiError(503, "service_unavailable",
                                "Sessions are unavailable right now; retry shortly.", null, "session_service_unavailable"));
                        return;
                    }
                    ObjectNode created = mapper.createObjectNode().put("id", id).put("object", "session").put("model", model)
                            .put("created_at", System.currentTimeMillis() / 1000);
                    rc.response().putHeader("Content-Type", "application/json").putHeader("X-Session-Id", id).end(created.toString());
                });
    }

    private void forward(RoutingContext rc, HttpMethod method) {
        String id = rc.pathParam("id");
        if (id == null || id.isBlank() || id.length() > MAX_SESSION_ID || RequestParser.hasControl(id)) { // PostgreSQL refuses NUL: 400, not 502
            Routes.sendError(rc.response(), ApiError.invalid("A session id has 1 to " + MAX_SESSION_ID + " characters, none a control character.",
                    "session_id"));
            return;
        }
        String apiKey = rc.get("apiKey");
        sessions.call(method, internalId(apiKey, id), "", owner(apiKey), null, config.sessionServiceTimeout().toMillis())
                .onComplete(ar -> {
                    if (ar.failed()) {
                        LOG.warnf("session-service did not answer %s of a session: %s", method, ar.cause().toString());
                        Routes.sendError(rc.response(), new ApiError(503, "service_unavailable",
                                "Sessions are unavailable right now; retry shortly.", null, "session_service_unavailable"));
                        return;
                    }
                    SessionServiceClient.Reply r = ar.result();
                    if (r.status() == 404) {
                        Routes.sendError(rc.response(), new ApiError(404, "invalid_request_error",
                                "No session found with id '" + id + "'.", "session_id", "session_not_found"));
                    } else if (r.status() != 200) {
                        LOG.warnf("session-service answered %d to %s of a session: %s", r.status(), method, r.body());
                        Routes.sendError(rc.response(), new ApiError(502, "server_error",
                                "session-service failed (" + r.status() + ").", null, "session_service_error"));
                    } else {
                        if (method == HttpMethod.DELETE) forgetHotCache(internalId(apiKey, id));
                        try {
                            rc.response().putHeader("Content-Type", "application/json").end(withClientId(r.body(), id));
                        } catch (IOException | ClassCastException e) {
                            Routes.sendError(rc.response(), new ApiError(502, "server_error",
                                    "session-service sent an unreadable answer.", null, "session_service_error"));
                        }
                    }
                });
    }

    /**
     * Tells the inference replica holding the session's hot KV cache to drop it unparked (else it would serve the
     * deleted session's prefix and park it back into session-service). Asynchronous: the deletion stands either way.
     */
    private void forgetHotCache(String sessionId) {
        publisher.sessionDeleted(new SessionDeleted("del-" + java.util.UUID.randomUUID(), sessionId, sessionId))
                .whenComplete((ok, e) -> {
                    if (e != null) LOG.warnf("could not tell inference that session %s was deleted: %s", sessionId, e.toString());
                });
    }

    /** session-service's answer with the id the client knows. */
    private Buffer withClientId(Buffer body, String clientId) throws IOException {
        ObjectNode node = (ObjectNode) mapper.readTree(body.getBytes());
        node.put("id", clientId);
        return Buffer.buffer(mapper.writeValueAsBytes(node));
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
