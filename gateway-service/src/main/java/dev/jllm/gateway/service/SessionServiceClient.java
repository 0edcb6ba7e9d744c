package dev.jllm.gateway.service;

import dev.jllm.gateway.config.GatewayConfig;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * session-service's internal API from the event loop: Vert.x's non-blocking HTTP client, the shared secret
 * ({@code X-Internal-Token}) on every call, and a deadline on every call (the future fails when it passes).
 */
@ApplicationScoped
public class SessionServiceClient {
    /** What session-service answered. */
    public record Reply(int status, Buffer body) {}

    @Inject Vertx vertx;
    @Inject GatewayConfig config;
    @Inject GatewayMetrics metrics;

    @ConfigProperty(name = "jllm.internal-token")
    Optional<String> token;

    private HttpClient client;
    private Counter storeFailures;

    @PostConstruct
    void init() {
        client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(2_000).setKeepAlive(true).setMaxPoolSize(32));
        storeFailures = Counter.builder("jllm_session_store_failures")
                .description("Finished session turns that could not be recorded in session-service").register(metrics.registry());
    }

    @PreDestroy
    void close() {
        if (client != null) client.close();
    }

    /** {@code METHOD <session-service>/internal/v1/sessions/<id><suffix>} with {@code X-Owner} (when not null) and a JSON body (when not null). */
    public Future<Reply> call(HttpMethod method, String sessionId, String suffix, String owner, Buffer json, long timeoutMillis) {
        return request(method, "/internal/v1/sessions/" + pathSegment(sessionId) + suffix, owner, json, timeoutMillis);
    }

    /** {@code METHOD <session-service><path>} with {@code X-Owner} (when not null) and a JSON body (when not null). */
    public Future<Reply> request(HttpMethod method, String path, String owner, Buffer json, long timeoutMillis) {
        String base = config.sessionServiceUrl().replaceAll("/+$", "");
        RequestOptions options = new RequestOptions().setMethod(method)
                .setAbsoluteURI(base + path)
                .setTimeout(timeoutMillis);
        token.ifPresent(t -> options.putHeader("X-Internal-Token", t));
        if (owner != null) options.putHeader("X-Owner", owner);
        if (json != null) options.putHeader("Content-Type", "application/json");
        return client.request(options)
                .compose(req -> json == null ? req.send() : req.send(json))
                .compose(r -> r.body().map(b -> new Reply(r.statusCode(), b)))
                .timeout(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    /** Counts a turn that could not be recorded (the answer went out anyway). */
    public void storeFailed() {
        storeFailures.increment();
    }

    /** A path segment: URLEncoder's form encoding, with spaces as %20 (a '+' in a path is a plus). */
    public static String pathSegment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
