package dev.jllm.gateway.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jllm.gateway.config.GatewayConfig;
import dev.jllm.gateway.messaging.RequestPublisher;
import dev.jllm.gateway.messaging.Readiness;
import dev.jllm.gateway.service.GatewayMetrics;
import dev.jllm.gateway.service.InFlightRequests;
import dev.jllm.gateway.service.SessionServiceClient;
import dev.jllm.openai.ApiError;
import dev.jllm.openai.ParsedRequest;
import dev.jllm.openai.RequestParser;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import dev.jllm.messaging.PipelineTrace;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

/**
 * The OpenAI-compatible HTTP API on Vert.x routes (full control of status, headers and SSE framing).
 * Handlers run on the event loop and never block: parsing is in memory, producing is asynchronous, and
 * tokens are written as their events arrive.
 */
@ApplicationScoped
public class Routes {
    private static final long STARTED = System.currentTimeMillis() / 1000;

    @Inject GatewayConfig config;
    @Inject InFlightRequests inFlight;
    @Inject RequestPublisher publisher;
    @Inject GatewayMetrics metrics;
    @Inject Readiness readiness;
    @Inject ObjectMapper mapper;
    @Inject Vertx vertx;
    @Inject SessionServiceClient sessions;

    private String instanceId;
    private RequestParser parser;
    private Exchange.Deps deps;

    void init(@Observes Router router) {
        instanceId = config.instanceId().orElseGet(() -> "gw-" + UUID.randomUUID().toString().substring(0, 8));
        parser = new RequestParser(mapper, config.models());
        deps = new Exchange.Deps(vertx, mapper, config, inFlight, publisher, metrics, sessions);

        router.route("/v1/*").order(-10).handler(this::authenticate);
        BodyHandler body = BodyHandler.create(false).setBodyLimit(config.maxBodyBytes());
        router.post("/v1/chat/completions").handler(body).handler(rc -> accept(rc, true)).failureHandler(this::failure);
        router.post("/v1/completions").handler(body).handler(rc -> accept(rc, false)).failureHandler(this::failure);
        router.get("/v1/models").handler(this::models);
        router.get("/v1/models/:id").handler(this::model);
        router.get("/metrics").handler(rc -> rc.response()
                .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(metrics.scrape()));
    }

    /** This instance's id; generation events addressed to it are the ones it streams. */
    public String instanceId() {
        return instanceId;
    }

    private void accept(RoutingContext rc, boolean chat) {
        if (!readiness.ready()) {
            sendError(rc.response(), new ApiError(503, "service_unavailable", "The gateway is starting; retry shortly.", null, "not_ready"));
            return;
        }
        ParsedRequest req;
        try {
            req = parser.parse(rc.body().buffer() == null ? new byte[0] : rc.body().buffer().getBytes(), chat, instanceId,
                    rc.request().getHeader("X-Session-Id"), System.currentTimeMillis());
        } catch (ApiError e) {
            metrics.outcome("error_" + e.status);
            sendError(rc.response(), e);
            return;
        }
        PipelineTrace.mark(req.request().requestId(), PipelineTrace.REQUEST_PARSED);
        String apiKey = rc.get("apiKey");
        String clientSession = req.request().sessionId();
        new Exchange(deps, vertx.getOrCreateContext(), rc.response(), SessionRoutes.scoped(req, apiKey), clientSession,
                SessionRoutes.owner(apiKey)).start();
    }

    private void failure(RoutingContext rc) {
        if (rc.statusCode() == 413) metrics.outcome("error_413");
        bodyFailure(rc, "The request body is larger than " + config.maxBodyBytes() + " bytes.");
    }

    /**
     * A route's failure (its BodyHandler's limit: 413 with {@code tooLarge}; anything else with its status) as
     * an OpenAI error object, never Vert.x's plain-text page.
     */
    static void bodyFailure(RoutingContext rc, String tooLarge) {
        int status = rc.statusCode();
        if (status == 413) {
            sendError(rc.response(), new ApiError(413, "invalid_request_error", tooLarge, null, "request_too_large"));
        } else {
            sendError(rc.response(), new ApiError(status > 0 ? status : 500, status >= 500 || status < 0 ? "server_error" : "invalid_request_error",
                    rc.failure() != null ? String.valueOf(rc.failure().getMessage()) : "request failed", null, null));
        }
    }

    private void authenticate(RoutingContext rc) {
        List<String> keys = config.apiKeys().orElse(List.of());
        if (keys.isEmpty()) {
            rc.next();
            return;
        }
        String auth = rc.request().getHeader("Authorization");
        String given = auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7) ? auth.substring(7).trim() : null;
        if (given != null && keys.stream().anyMatch(k -> constantTimeEquals(k, given))) {
            rc.put("apiKey", given);
            rc.next();
            return;
        }
        metrics.outcome("error_401");
        sendError(rc.response(), new ApiError(401, "invalid_request_error",
                given == null ? "You didn't provide an API key. Provide it as 'Authorization: Bearer YOUR_KEY'."
                        : "Incorrect API key provided.", null, "invalid_api_key"));
    }

    private static boolean constantTimeEquals(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    private void models(RoutingContext rc) {
        ObjectNode root = mapper.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (String m : config.models()) data.add(modelObject(m));
        rc.response().putHeader("Content-Type", "application/json").end(root.toString());
    }

    private void model(RoutingContext rc) {
        String id = rc.pathParam("id");
        if (!config.models().contains(id)) {
            sendError(rc.response(), new ApiError(404, "invalid_request_error",
                    "The model `" + id + "` does not exist or you do not have access to it.", "model", "model_not_found"));
            return;
        }
        rc.response().putHeader("Content-Type", "application/json").end(modelObject(id).toString());
    }

    private ObjectNode modelObject(String id) {
        ObjectNode m = mapper.createObjectNode();
        m.put("id", id);
        m.put("object", "model");
        m.put("created", STARTED);
        m.put("owned_by", "jllm");
        return m;
    }

    static void sendError(HttpServerResponse response, ApiError e) {
        if (response.ended() || response.closed()) return;
        response.setStatusCode(e.status).putHeader("Content-Type", "application/json")
                .end(Buffer.buffer(e.toJson().toString()));
    }
}
