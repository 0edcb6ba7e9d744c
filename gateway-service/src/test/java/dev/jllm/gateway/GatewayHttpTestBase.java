package dev.jllm.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jllm.contracts.CompletionRequested;
import dev.jllm.gateway.service.InFlightRequests;
import io.quarkus.test.common.http.TestHTTPResource;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.*;

/** What the gateway's HTTP tests share: a client, the fake pipeline, readiness and leak checks, JSON and SSE helpers. */
abstract class GatewayHttpTestBase {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    static FakePipeline pipeline;

    @TestHTTPResource("/")
    URI base;

    @Inject
    InFlightRequests inFlight;

    @BeforeEach
    void gatewayReadyAndPipelineUp() throws Exception {
        if (pipeline == null) {
            pipeline = new FakePipeline(ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        int status = 0;
        while (System.nanoTime() < deadline) {
            status = HTTP.send(HttpRequest.newBuilder(base.resolve("/q/health/ready")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status == 200) return;
            Thread.sleep(100);
        }
        fail("gateway not ready within 60 s (last status " + status + ")");
    }

    /** Every request a test made is over: none may stay registered (a leak would exhaust max-in-flight). */
    @AfterEach
    void nothingLeftInFlight() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (inFlight.size() != 0 && System.nanoTime() < deadline) Thread.sleep(20);
        assertEquals(0, inFlight.size(), "requests left in flight");
    }

    @AfterAll
    static void closePipeline() {
        if (pipeline != null) pipeline.close();
        pipeline = null;
    }

    HttpRequest.Builder request(String path, String... headers) {
        var b = HttpRequest.newBuilder(base.resolve(path)).timeout(FakePipeline.WAIT);
        if (headers.length > 0) b.headers(headers);
        return b;
    }

    CompletableFuture<HttpResponse<String>> postAsync(String path, String body, String... headers) {
        HttpRequest req = request(path, headers).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return HTTP.sendAsync(req, HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String body, String... headers) {
        return join(postAsync(path, body, headers));
    }

    HttpResponse<String> get(String path, String... headers) {
        try {
            return HTTP.send(request(path, headers).GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    static HttpResponse<String> join(CompletableFuture<HttpResponse<String>> f) {
        try {
            return f.get(FakePipeline.WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("no HTTP response within " + FakePipeline.WAIT, e);
        }
    }

    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + text, e);
        }
    }

    /**
     * A hand-written expected object with {@code $ID}, {@code $CREATED} and {@code $MODEL} taken from the
     * request the gateway produced (the only values the test cannot know in advance).
     */
    static JsonNode expected(String template, CompletionRequested r) {
        return json(template.replace("'", "\"").replace("$ID", r.requestId())
                .replace("$CREATED", Long.toString(r.createdAtMillis() / 1000)).replace("$MODEL", r.model()));
    }

    /** The SSE events of a finished stream body, each without its blank-line terminator. */
    static List<String> sseEvents(String body) {
        assertTrue(body.endsWith("\n\n"), "an SSE body ends with a blank line: " + body);
        return new ArrayList<>(Arrays.asList(body.substring(0, body.length() - 2).split("\n\n", -1)));
    }

    /** The JSON of a {@code data:} event. */
    static JsonNode data(String event) {
        assertTrue(event.startsWith("data: ") && !event.contains("\n"), "a single data line: " + event);
        return json(event.substring("data: ".length()));
    }

    static String chatBody(String model, String content, String extra) {
        return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]" + extra + "}";
    }
}
