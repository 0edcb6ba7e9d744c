package dev.jllm.gateway;

import dev.jllm.contracts.CompletionRequested;
import dev.jllm.contracts.FinishReason;
import dev.jllm.contracts.GenerationCancelled;
import dev.jllm.contracts.TokenGenerated;
import dev.jllm.contracts.Usage;
import dev.jllm.testsupport.KafkaResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The gateway's own limits, all in one profile (each profile restarts the app): API keys, body size,
 * requests in flight, first-token timeout.
 */
@QuarkusTest
@TestProfile(GatewayLimitsTest.Profile.class)
@WithTestResource(KafkaResource.class)
class GatewayLimitsTest extends GatewayHttpTestBase {
    static final String KEY = "k1";
    static final int MAX_BODY = 512;
    static final int MAX_IN_FLIGHT = 2;
    static final Duration FIRST_TOKEN_TIMEOUT = Duration.ofSeconds(4); // margin for the 429 test on a loaded machine
    static final Duration INTER_TOKEN_TIMEOUT = Duration.ofSeconds(2);
    private static final String[] AUTH = {"Authorization", "Bearer " + KEY};

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "jllm.gateway.instance-id", "gw-limits-test",
                    "jllm.gateway.models", "m1",
                    "jllm.gateway.api-keys", KEY,
                    "jllm.gateway.max-body-bytes", Integer.toString(MAX_BODY),
                    "jllm.gateway.max-in-flight", Integer.toString(MAX_IN_FLIGHT),
                    "jllm.gateway.first-token-timeout", FIRST_TOKEN_TIMEOUT.toMillis() + "ms",
                    "jllm.gateway.inter-token-timeout", INTER_TOKEN_TIMEOUT.toMillis() + "ms");
        }
    }

    private static String marker() {
        return "q-" + UUID.randomUUID();
    }

    private static void finishOk(CompletionRequested r) {
        pipeline.send(new TokenGenerated(r.requestId(), r.gatewayId(), 0, 3, "ok", null, FinishReason.STOP, new Usage(2, 1, 0)));
    }

    @Test
    void apiKeysAreRequiredUnderV1() {
        HttpResponse<String> none = post("/v1/chat/completions", chatBody("m1", "x", ""));
        assertEquals(401, none.statusCode());
        assertEquals(json("{\"error\":{\"message\":\"You didn't provide an API key. Provide it as 'Authorization: Bearer YOUR_KEY'.\","
                + "\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}"), json(none.body()));

        HttpResponse<String> wrong = get("/v1/models", "Authorization", "Bearer k2");
        assertEquals(401, wrong.statusCode());
        assertEquals("invalid_api_key", json(wrong.body()).at("/error/code").asText());
        assertEquals(401, get("/v1/models", "Authorization", "Basic " + KEY).statusCode());
        assertEquals(401, get("/v1/models/m1").statusCode());

        HttpResponse<String> ok = get("/v1/models", AUTH);
        assertEquals(200, ok.statusCode(), ok.body());
        assertEquals("m1", json(ok.body()).at("/data/0/id").asText());
        assertEquals(200, get("/v1/models", "Authorization", "bearer " + KEY).statusCode(), "the scheme is case-insensitive");

        assertEquals(200, get("/metrics").statusCode(), "metrics are not under /v1");

        // with the key, a request goes through to the pipeline
        String q = marker();
        var pending = postAsync("/v1/chat/completions", chatBody("m1", q, ""), AUTH);
        finishOk(pipeline.awaitChat(q).value());
        HttpResponse<String> res = join(pending);
        assertEquals(200, res.statusCode(), res.body());
        assertEquals("ok", json(res.body()).at("/choices/0/message/content").asText());
    }

    @Test
    void aBodyOverTheLimitIs413() {
        String big = chatBody("m1", "x".repeat(MAX_BODY), "");
        HttpResponse<String> res = post("/v1/chat/completions", big, AUTH);
        assertEquals(413, res.statusCode(), res.body());
        assertEquals("request_too_large", json(res.body()).at("/error/code").asText());
        assertEquals("invalid_request_error", json(res.body()).at("/error/type").asText());

        String small = chatBody("m1", "y", ",\"n\":2");
        assertTrue(small.length() < MAX_BODY);
        assertEquals(400, post("/v1/chat/completions", small, AUTH).statusCode(), "a body under the limit is parsed");
    }

    @Test
    void aChunkedBodyOverTheLimitIs413Too() throws Exception {
        // no Content-Length: the limit must hold while the body streams in, not only on the declared size
        byte[] big = chatBody("m1", "x".repeat(4 * MAX_BODY), "").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        HttpResponse<String> res = HTTP.send(java.net.http.HttpRequest.newBuilder(base.resolve("/v1/chat/completions"))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json").header(AUTH[0], AUTH[1])
                .POST(java.net.http.HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(big))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(413, res.statusCode(), res.body());
        assertEquals("request_too_large", json(res.body()).at("/error/code").asText());
        assertTrue(res.headers().firstValue("Content-Length").isPresent() || !res.body().isEmpty(), "an error body is sent");
    }

    @Test
    void aGatewayThatIsNotReadyAnswers503() {
        // a Readiness that never saw its partitions, as right after start
        io.quarkus.test.junit.QuarkusMock.installMockForType(new dev.jllm.gateway.messaging.Readiness(),
                dev.jllm.gateway.messaging.Readiness.class);
        HttpResponse<String> res = post("/v1/chat/completions", chatBody("m1", "hi", ""), AUTH);
        assertEquals(503, res.statusCode(), res.body());
        assertEquals("service_unavailable", json(res.body()).at("/error/type").asText());
        assertEquals("not_ready", json(res.body()).at("/error/code").asText());
    }

    @Test
    void pastMaxInFlightTheGatewayAnswers429() {
        String q1 = marker(), q2 = marker();
        var first = postAsync("/v1/chat/completions", chatBody("m1", q1, ""), AUTH);
        var second = postAsync("/v1/chat/completions", chatBody("m1", q2, ",\"stream\":true"), AUTH);
        CompletionRequested r1 = pipeline.awaitChat(q1).value();
        CompletionRequested r2 = pipeline.awaitChat(q2).value(); // both registered before they were produced
        assertEquals(MAX_IN_FLIGHT, inFlight.size());

        HttpResponse<String> refused = post("/v1/chat/completions", chatBody("m1", marker(), ""), AUTH);
        assertEquals(429, refused.statusCode(), refused.body());
        assertEquals("rate_limit_exceeded", json(refused.body()).at("/error/code").asText());

        finishOk(r1);
        finishOk(r2);
        assertEquals(200, join(first).statusCode());
        HttpResponse<String> s = join(second);
        assertEquals(200, s.statusCode());
        assertTrue(s.body().endsWith("data: [DONE]\n\n"), s.body());

        // the slots are free again
        String q3 = marker();
        var third = postAsync("/v1/chat/completions", chatBody("m1", q3, ""), AUTH);
        finishOk(pipeline.awaitChat(q3).value());
        assertEquals(200, join(third).statusCode());
    }

    @Test
    void noFirstTokenInTimeIs504AndTheGenerationIsCancelled() {
        String q = marker();
        long t0 = System.nanoTime();
        var pending = postAsync("/v1/chat/completions", chatBody("m1", q, ",\"stream\":true"),
                "Authorization", "Bearer " + KEY, "X-Session-Id", "sess-slow");
        CompletionRequested r = pipeline.awaitChat(q).value();
        HttpResponse<String> res = join(pending);
        long waitedMs = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(504, res.statusCode(), res.body());
        assertEquals("first_token_timeout", json(res.body()).at("/error/code").asText());
        assertEquals("timeout", json(res.body()).at("/error/type").asText());
        assertTrue(waitedMs >= FIRST_TOKEN_TIMEOUT.toMillis() - 50, "answered after " + waitedMs + " ms, before the timeout");

        var cancel = pipeline.awaitCommand(r.requestId());
        // with API keys, a session id is scoped by its key inside the stack (SessionRoutes): the cancel follows it
        String scoped = r.sessionId();
        assertTrue(scoped.endsWith(":sess-slow") && scoped.length() == 16 + ":sess-slow".length(), scoped);
        assertEquals(scoped, cancel.key());
        assertEquals(new GenerationCancelled(r.requestId(), scoped, "no first token in time"), cancel.value());

        finishOk(r); // a token after the timeout changes nothing
    }

    @Test
    void aStalledStreamEndsWithAnSseErrorAndIsCancelled() {
        String q = marker();
        var pending = postAsync("/v1/chat/completions", chatBody("m1", q, ",\"stream\":true"), AUTH);
        CompletionRequested r = pipeline.awaitChat(q).value();
        pipeline.send(new TokenGenerated(r.requestId(), r.gatewayId(), 0, 3, "Once", null, null, null));
        HttpResponse<String> res = join(pending); // then nothing: the stream stalls

        assertEquals(200, res.statusCode());
        List<String> events = sseEvents(res.body());
        assertEquals(4, events.size(), res.body());
        assertEquals("Once", data(events.get(1)).at("/choices/0/delta/content").asText());
        assertTrue(events.get(2).startsWith("event: error\ndata: "), events.get(2));
        var error = json(events.get(2).substring("event: error\ndata: ".length()));
        assertEquals("inter_token_timeout", error.at("/error/code").asText());
        assertEquals("data: [DONE]", events.get(3));

        var cancel = pipeline.awaitCommand(r.requestId());
        assertEquals(r.requestId(), cancel.key(), "no session: the request's own key");
        assertEquals(new GenerationCancelled(r.requestId(), r.requestId(), "generation stalled"), cancel.value());
    }

    /** Tokens closer together than the inter-token timeout keep the stream alive however long it runs; then a stall ends it. */
    @Test
    void theStallIsTimedFromTheLastToken() throws Exception {
        String q = marker();
        long t0 = System.nanoTime();
        var pending = postAsync("/v1/chat/completions", chatBody("m1", q, ",\"stream\":true"), AUTH);
        CompletionRequested r = pipeline.awaitChat(q).value();
        long gapMs = INTER_TOKEN_TIMEOUT.toMillis() * 6 / 10;
        int tokens = 4; // the last one comes after the first-token and the inter-token timeout both passed
        for (int i = 0; i < tokens; i++) {
            if (i > 0) Thread.sleep(gapMs);
            pipeline.send(new TokenGenerated(r.requestId(), r.gatewayId(), i, 3 + i, "w" + i, null, null, null));
        }
        long lastSentMs = (System.nanoTime() - t0) / 1_000_000;
        HttpResponse<String> res = join(pending); // then nothing: the stream stalls
        long waitedMs = (System.nanoTime() - t0) / 1_000_000;

        List<String> events = sseEvents(res.body());
        assertEquals(tokens + 3, events.size(), res.body()); // role, the tokens, the error, [DONE]
        for (int i = 0; i < tokens; i++) assertEquals("w" + i, data(events.get(1 + i)).at("/choices/0/delta/content").asText());
        assertTrue(events.get(tokens + 1).startsWith("event: error\ndata: "), events.get(tokens + 1));
        assertEquals("inter_token_timeout", json(events.get(tokens + 1).substring("event: error\ndata: ".length())).at("/error/code").asText());
        assertTrue(waitedMs >= lastSentMs + INTER_TOKEN_TIMEOUT.toMillis() - 50,
                "ended " + waitedMs + " ms in, the last token was sent at " + lastSentMs + " ms");
        assertEquals(new GenerationCancelled(r.requestId(), r.requestId(), "generation stalled"), pipeline.awaitCommand(r.requestId()).value());
    }
}
