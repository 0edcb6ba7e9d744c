package dev.jllm.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.jllm.contracts.ChatMessage;
import dev.jllm.contracts.CompletionRequested;
import dev.jllm.contracts.FinishReason;
import dev.jllm.contracts.TokenGenerated;
import dev.jllm.contracts.Usage;
import dev.jllm.testsupport.KafkaResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Sessions at the gateway with API keys: ids scoped by key (Kafka key, the id inside the stack), the client's own
 * id in answers, the finished turn recorded in session-service before the answer completes, and
 * {@code GET/DELETE /v1/sessions/{id}} where another key gets 404. session-service is played by a small HTTP
 * server that checks the shared secret.
 */
@QuarkusTest
@TestProfile(GatewaySessionsTest.Profile.class)
@WithTestResource(KafkaResource.class)
class GatewaySessionsTest extends GatewayHttpTestBase {
    static final String GW = "gw-sessions-test";
    static final String SECRET = "s3cret";
    /** The fake session-service records a turn only after this delay, then answers: a gateway that did not wait would answer first. */
    static final long RECORD_DELAY_MS = 300;
    /**
     * One fake per JVM: Quarkus loads this class twice (for the profile and for the test), so the test reads the
     * fake's state over HTTP ({@code /fake/...}) rather than from fields.
     */
    static final FakeSessionService SESSIONS = FakeSessionService.shared();

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("jllm.gateway.instance-id", GW, "jllm.gateway.models", "m1",
                    "jllm.gateway.api-keys", "k1,k2", "jllm.internal-token", SECRET,
                    "jllm.gateway.session-service-url", "http://127.0.0.1:" + SESSIONS.port(),
                    "quarkus.http.test-port", "0"); // a free port: other builds may run tests on this machine
        }
    }

    static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    static String scoped(String key, String id) throws Exception {
        return sha256(key).substring(0, 16) + ":" + id;
    }

    private static TokenGenerated token(CompletionRequested r, int index, String text) {
        return new TokenGenerated(r.requestId(), r.gatewayId(), index, 100 + index, text, null, null, null);
    }

    private static TokenGenerated last(CompletionRequested r, int index, Usage usage) {
        return new TokenGenerated(r.requestId(), r.gatewayId(), index, -1, "", null, FinishReason.STOP, usage);
    }

    @Test
    void aTurnIsScopedByKeyAndRecordedBeforeItsAnswerCompletes() throws Exception {
        String q = "q-" + UUID.randomUUID();
        var pending = postAsync("/v1/chat/completions", chatBody("m1", q, ""), "Authorization", "Bearer k1", "X-Session-Id", "conv-1");
        var produced = pipeline.awaitChat(q);
        CompletionRequested r = produced.value();
        assertEquals(scoped("k1", "conv-1"), produced.key(), "the Kafka key is the scoped id");
        assertEquals(scoped("k1", "conv-1"), r.sessionId());
        pipeline.send(token(r, 0, "Hello"));
        pipeline.send(token(r, 1, " world"));
        pipeline.send(last(r, 2, new Usage(12, 2, 0)));

        HttpResponse<String> res = join(pending);
        assertEquals(200, res.statusCode(), res.body());
        assertEquals("conv-1", res.headers().firstValue("X-Session-Id").orElse(null), "the client's own id");
        JsonNode turn = SESSIONS.turn(scoped("k1", "conv-1"));
        assertNotNull(turn, "the turn was recorded before the answer completed");
        assertEquals(sha256("k1"), turn.get("owner").asText());
        assertEquals("m1", turn.get("model").asText());
        assertEquals(List.of(new ChatMessage("user", q)), JSON.convertValue(turn.get("messages"),
                JSON.getTypeFactory().constructCollectionType(List.class, ChatMessage.class)));
        assertEquals("Hello world", turn.get("reply").asText());
        assertEquals(14, turn.get("token_count").asInt());
    }

    @Test
    void aStreamedTurnIsRecordedBeforeDone() throws Exception {
        String q = "q-" + UUID.randomUUID();
        var pending = postAsync("/v1/chat/completions", chatBody("m1", q, ",\"stream\":true"),
                "Authorization", "Bearer k2", "X-Session-Id", "conv-s");
        CompletionRequested r = pipeline.awaitChat(q).value();
        assertEquals(scoped("k2", "conv-s"), r.conversationKey());
        pipeline.send(token(r, 0, "Once"));
        pipeline.send(token(r, 1, " upon"));
        pipeline.send(last(r, 2, new Usage(5, 2, 0)));
        HttpResponse<String> res = join(pending);
        assertEquals(200, res.statusCode(), res.body());
        assertEquals("conv-s", res.headers().firstValue("X-Session-Id").orElse(null));
        assertTrue(res.body().endsWith("data: [DONE]\n\n"), res.body());
        JsonNode turn = SESSIONS.turn(scoped("k2", "conv-s"));
        assertNotNull(turn, "recorded before [DONE]");
        assertEquals("Once upon", turn.get("reply").asText());
        assertEquals(sha256("k2"), turn.get("owner").asText());
    }

    @Test
    void anotherKeyGets404ForASession() throws Exception {
        SESSIONS.own(scoped("k1", "mine"), sha256("k1"));
        HttpResponse<String> own = get("/v1/sessions/mine", "Authorization", "Bearer k1");
        assertEquals(200, own.statusCode(), own.body());
        assertEquals("mine", json(own.body()).get("id").asText(), "the client's id, not the scoped one");
        assertEquals("session", json(own.body()).get("object").asText());

        HttpResponse<String> other = get("/v1/sessions/mine", "Authorization", "Bearer k2");
        assertEquals(404, other.statusCode(), other.body());
        assertEquals("session_not_found", json(other.body()).at("/error/code").asText());
        assertEquals(404, delete("/v1/sessions/mine", "Bearer k2").statusCode());
        assertEquals(200, get("/v1/sessions/mine", "Authorization", "Bearer k1").statusCode(), "k2 deleted nothing");
        assertEquals(401, get("/v1/sessions/mine").statusCode(), "no key");
        HttpResponse<String> nul = get("/v1/sessions/a%00b", "Authorization", "Bearer k1"); // session-service's PostgreSQL refuses NUL
        assertEquals(400, nul.statusCode(), nul.body());
        assertEquals("session_id", json(nul.body()).at("/error/param").asText());
        assertEquals(400, delete("/v1/sessions/a%0Ab", "Bearer k1").statusCode());

        HttpResponse<String> del = delete("/v1/sessions/mine", "Bearer k1");
        assertEquals(200, del.statusCode(), del.body());
        assertEquals("mine", json(del.body()).get("id").asText());
        // the replica holding the hot cache is told to drop it, keyed like the session's turns
        String scopedId = scoped("k1", "mine");
        var deleted = pipeline.awaitCommandMatching(k -> k.value() instanceof dev.jllm.contracts.SessionDeleted d
                && d.sessionId().equals(scopedId), "SessionDeleted for " + scopedId);
        assertEquals(scopedId, deleted.key());
        assertEquals(404, get("/v1/sessions/mine", "Authorization", "Bearer k1").statusCode());
    }

    @Test
    void theGatewayCreatesASessionForTheCallersKey() throws Exception {
        HttpResponse<String> res = post("/v1/sessions", "", "Authorization", "Bearer k1");
        assertEquals(200, res.statusCode(), res.body());
        String id = json(res.body()).get("id").asText();
        assertTrue(id.matches("sess_[0-9a-f]{24}"), id);
        assertEquals("session", json(res.body()).get("object").asText());
        assertEquals("m1", json(res.body()).get("model").asText());
        assertEquals(id, res.headers().firstValue("X-Session-Id").orElse(null));
        JsonNode stored = SESSIONS.turn(scoped("k1", id));
        assertNotNull(stored, "created in session-service under the scoped id");
        assertEquals(sha256("k1"), stored.get("owner").asText());
        assertTrue(stored.get("messages") == null || stored.get("messages").isNull(), "no turn yet");
        assertEquals(200, get("/v1/sessions/" + id, "Authorization", "Bearer k1").statusCode());
        assertEquals(404, get("/v1/sessions/" + id, "Authorization", "Bearer k2").statusCode(), "another key's session");

        String second = json(post("/v1/sessions", "{\"model\":\"m1\"}", "Authorization", "Bearer k1").body()).get("id").asText();
        assertNotEquals(id, second, "every session gets a new id");
        assertEquals(404, post("/v1/sessions", "{\"model\":\"nope\"}", "Authorization", "Bearer k1").statusCode());
        assertEquals(400, post("/v1/sessions", "[1]", "Authorization", "Bearer k1").statusCode());
        assertEquals(401, post("/v1/sessions", "").statusCode(), "a key is required");
        HttpResponse<String> large = post("/v1/sessions", "{\"model\":\"" + "m".repeat(5000) + "\"}", "Authorization", "Bearer k1");
        assertEquals(413, large.statusCode(), large.body());
        assertEquals("request_too_large", json(large.body()).at("/error/code").asText(), "an OpenAI error object: " + large.body());
    }

    @Test
    void anAnswerGoesOutWhenItsTurnCannotBeRecorded() throws Exception {
        String q = "q-" + UUID.randomUUID();
        var pending = postAsync("/v1/chat/completions", chatBody("m1", q, ""), "Authorization", "Bearer k1", "X-Session-Id", "broken");
        CompletionRequested r = pipeline.awaitChat(q).value();
        pipeline.send(token(r, 0, "Still"));
        pipeline.send(last(r, 1, new Usage(3, 1, 0)));
        HttpResponse<String> res = join(pending);
        assertEquals(200, res.statusCode(), res.body());
        assertEquals("Still", json(res.body()).at("/choices/0/message/content").asText());
        String metrics = get("/metrics").body();
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("jllm_session_store_failures_total") && !l.endsWith(" 0.0")), metrics);
    }

    HttpResponse<String> delete(String path, String auth) {
        try {
            return HTTP.send(request(path, "Authorization", auth).DELETE().build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** session-service's internal API as the gateway uses it; a session named "...:broken" fails with 500. */
    static final class FakeSessionService {
        final Map<String, JsonNode> turns = new ConcurrentHashMap<>();
        final Map<String, String> owners = new ConcurrentHashMap<>();
        private final HttpServer server;

        private final int port;

        private FakeSessionService(int port) {
            this.port = port;
            this.server = null;
        }

        private FakeSessionService() {
            try {
                server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            port = server.getAddress().getPort();
            server.createContext("/internal/v1/sessions/", this::handle);
            server.createContext("/fake/", this::fake);
            server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4, r -> {
                Thread t = new Thread(r, "fake-session-service");
                t.setDaemon(true);
                return t;
            }));
            server.start();
        }

        static synchronized FakeSessionService shared() {
            String p = System.getProperty("jllm.test.fake-session-service.port");
            if (p != null) return new FakeSessionService(Integer.parseInt(p));
            FakeSessionService s = new FakeSessionService();
            System.setProperty("jllm.test.fake-session-service.port", String.valueOf(s.port));
            return s;
        }

        int port() {
            return port;
        }

        /** The turn recorded for this session id, or null. */
        JsonNode turn(String id) throws Exception {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/fake/turns/"
                    + java.net.URLEncoder.encode(id, StandardCharsets.UTF_8))).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
        }

        /** Makes a session of this owner exist. */
        void own(String id, String owner) throws Exception {
            HTTP.send(HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/fake/owners/"
                    + java.net.URLEncoder.encode(id, StandardCharsets.UTF_8))).PUT(HttpRequest.BodyPublishers.ofString(owner)).build(),
                    HttpResponse.BodyHandlers.discarding());
        }

        private void fake(HttpExchange x) throws IOException {
            try (x) {
                String[] parts = x.getRequestURI().getRawPath().split("/"); // "", "fake", what, id
                String id = URLDecoder.decode(parts[3], StandardCharsets.UTF_8);
                if (parts[2].equals("owners")) {
                    owners.put(id, new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
                    answer(x, 200, "{}");
                } else {
                    JsonNode t = turns.get(id);
                    answer(x, t == null ? 404 : 200, t == null ? "{}" : t.toString());
                }
            }
        }

        private void handle(HttpExchange x) throws IOException {
            try (x) {
                if (!SECRET.equals(x.getRequestHeaders().getFirst("X-Internal-Token"))) {
                    answer(x, 401, "{}");
                    return;
                }
                String rest = x.getRequestURI().getRawPath().substring("/internal/v1/sessions/".length());
                boolean turn = rest.endsWith("/turn");
                String id = URLDecoder.decode(turn ? rest.substring(0, rest.length() - 5) : rest, StandardCharsets.UTF_8);
                if (id.endsWith(":broken")) {
                    answer(x, 500, "{}");
                    return;
                }
                String owner = x.getRequestHeaders().getFirst("X-Owner");
                switch (x.getRequestMethod()) {
                    case "PUT" -> {
                        JsonNode body = JSON.readTree(x.getRequestBody());
                        Thread.sleep(RECORD_DELAY_MS);
                        turns.put(id, body);
                        owners.put(id, body.get("owner").asText());
                        answer(x, 200, "{\"id\":\"" + id + "\"}");
                    }
                    case "GET" -> answer(x, owner != null && owner.equals(owners.get(id)) ? 200 : 404,
                            "{\"id\":\"" + id + "\",\"object\":\"session\",\"model\":\"m1\",\"token_count\":0,\"messages\":[]}");
                    case "DELETE" -> {
                        boolean mine = owner != null && owner.equals(owners.get(id));
                        if (mine) owners.remove(id);
                        answer(x, mine ? 200 : 404, "{\"id\":\"" + id + "\",\"object\":\"session.deleted\",\"deleted\":true}");
                    }
                    default -> answer(x, 405, "{}");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private static void answer(HttpExchange x, int status, String json) throws IOException {
            byte[] b = json.getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().add("Content-Type", "application/json");
            x.sendResponseHeaders(status, b.length);
            x.getResponseBody().write(b);
        }
    }
}
