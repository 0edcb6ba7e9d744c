package dev.jllm.gateway.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jllm.contracts.CompletionRequested;
import dev.jllm.gateway.config.GatewayConfig;
import dev.jllm.gateway.service.SessionServiceClient;
import dev.jllm.openai.ApiError;
import dev.jllm.openai.ParsedRequest;
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

    @Inject SessionServiceClient sessions;
    @Inject GatewayConfig config;
    @Inject ObjectMapper mapper;

    void init(@Observes Router router) {
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

    private void forward(RoutingContext rc, HttpMethod method) {
        String id = rc.pathParam("id");
        if (id == null || id.isBlank() || id.length() > MAX_SESSION_ID) {
            Routes.sendError(rc.response(), ApiError.invalid("A session id has 1 to " + MAX_SESSION_ID + " characters.", "session_id"));
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
                        try {
                            rc.response().putHeader("Content-Type", "application/json").end(withClientId(r.body(), id));
                        } catch (IOException | ClassCastException e) {
                            Routes.sendError(rc.response(), new ApiError(502, "server_error",
                                    "session-service sent an unreadable answer.", null, "session_service_error"));
                        }
                    }
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
