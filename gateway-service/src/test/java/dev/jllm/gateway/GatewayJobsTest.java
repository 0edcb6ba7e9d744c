package dev.jllm.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.jllm.testsupport.KafkaResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code /v1/jobs} at the gateway: items checked like direct requests (400 naming the item, before anything is
 * stored), the job relayed to session-service with the caller's owner and the shared secret, and its answers
 * relayed back (another key's 404 included). session-service is played by a small HTTP server that records calls.
 */
@QuarkusTest
@TestProfile(GatewayJobsTest.Profile.class)
@WithTestResource(KafkaResource.class)
class GatewayJobsTest extends GatewayHttpTestBase {
    static final String SECRET = "jobs-secret";
    static final FakeJobService JOBS = FakeJobService.shared();

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("jllm.gateway.instance-id", "gw-jobs-test", "jllm.gateway.models", "m1",
                    "jllm.gateway.api-keys", "k1,k2", "jllm.internal-token", SECRET, "jllm.jobs.max-items", "3",
                    "jllm.gateway.session-service-url", "http://127.0.0.1:" + JOBS.port(),
                    "quarkus.http.test-port", "0");
        }
    }

    static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    static String item(String content) {
        return "{\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}}";
    }

    /** The calls the fake session-service received so far. */
    ArrayNode calls() {
        try {
            var r = HTTP.send(HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + JOBS.port() + "/fake/calls")).build(),
                    HttpResponse.BodyHandlers.ofString());
            return (ArrayNode) JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    HttpResponse<String> delete(String path, String... headers) {
        try {
            return HTTP.send(request(path, headers).DELETE().build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aJobIsCheckedThenStoredForItsOwnerAndItsAnswerRelayed() throws Exception {
        String body = "{\"requests\":[" + item("a") + "," + item("b") + "],\"metadata\":{\"x\":1}}";
        int before = calls().size();
        var r = post("/v1/jobs", body, "Authorization", "Bearer k1");
        assertEquals(201, r.statusCode(), r.body());
        assertEquals("job_fake", json(r.body()).get("id").asText());
        JsonNode call = calls().get(before);
        assertEquals("POST", call.get("method").asText());
        assertEquals("/internal/v1/jobs", call.get("path").asText());
        assertEquals(sha256("k1"), call.get("owner").asText());
        assertEquals(SECRET, call.get("token").asText());
        assertEquals(body, call.get("body").asText(), "the client's body as it came");
    }

    @Test
    void aBadItemIsA400NamingItAndNothingIsStored() {
        int before = calls().size();
        var r = post("/v1/jobs", "{\"requests\":[" + item("a") + ",{\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"m1\",\"messages\":[],\"top_p\":0}}]}",
                "Authorization", "Bearer k1");
        assertEquals(400, r.statusCode(), r.body());
        assertEquals("requests[1].body.messages", json(r.body()).at("/error/param").asText());
        var model = post("/v1/jobs", "{\"url\":\"/v1/completions\",\"body\":{\"model\":\"nope\",\"prompt\":\"x\"}}", "Authorization", "Bearer k1");
        assertEquals(404, model.statusCode());
        assertEquals("body.model", json(model.body()).at("/error/param").asText());
        var many = post("/v1/jobs", "{\"requests\":[" + item("1") + "," + item("2") + "," + item("3") + "," + item("4") + "]}",
                "Authorization", "Bearer k1");
        assertEquals(400, many.statusCode());
        assertTrue(json(many.body()).at("/error/message").asText().contains("at most 3"), many.body());
        assertEquals(before, calls().size(), "session-service was not called");
        assertEquals(401, post("/v1/jobs", "{\"requests\":[" + item("a") + "]}").statusCode(), "no key");
    }

    @Test
    void readingAndCancellingAreTheOwnersAlone() throws Exception {
        var mine = get("/v1/jobs/job_fake", "Authorization", "Bearer k1");
        assertEquals(200, mine.statusCode(), mine.body());
        assertEquals("running", json(mine.body()).get("status").asText());
        var theirs = get("/v1/jobs/job_fake", "Authorization", "Bearer k2");
        assertEquals(404, theirs.statusCode());
        assertEquals("job_not_found", json(theirs.body()).at("/error/code").asText());
        var cancelled = delete("/v1/jobs/job_fake", "Authorization", "Bearer k1");
        assertEquals(200, cancelled.statusCode());
        assertEquals("cancelled", json(cancelled.body()).get("status").asText());
        JsonNode last = calls().get(calls().size() - 1);
        assertEquals("DELETE", last.get("method").asText());
        assertEquals("/internal/v1/jobs/job_fake", last.get("path").asText());
        int before = calls().size();
        assertEquals(404, get("/v1/jobs/bad%20id", "Authorization", "Bearer k1").statusCode());
        assertEquals(400, get("/v1/jobs?limit=x", "Authorization", "Bearer k1").statusCode());
        assertEquals(before, calls().size(), "an impossible id or limit is not looked up");
        var list = get("/v1/jobs?limit=5&after=job_1", "Authorization", "Bearer k2");
        assertEquals(200, list.statusCode(), list.body());
        JsonNode listed = calls().get(calls().size() - 1);
        assertEquals("/internal/v1/jobs", listed.get("path").asText());
        assertEquals("limit=5&after=job_1", listed.get("query").asText());
        assertEquals(sha256("k2"), listed.get("owner").asText());
    }

    /** session-service's job API: records every call; job_fake belongs to k1. One per JVM (see GatewaySessionsTest). */
    static final class FakeJobService {
        private final ArrayNode calls = JSON.createArrayNode();
        private final int port;

        private FakeJobService(int port) {
            this.port = port;
        }

        static synchronized FakeJobService shared() {
            String p = System.getProperty("jllm.test.fake-job-service.port");
            if (p != null) return new FakeJobService(Integer.parseInt(p));
            try {
                HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
                FakeJobService s = new FakeJobService(server.getAddress().getPort());
                server.createContext("/internal/v1/jobs", s::handle);
                server.createContext("/fake/calls", ex -> s.send(ex, 200, s.callsJson()));
                server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(2, r -> {
                    Thread t = new Thread(r, "fake-job-service");
                    t.setDaemon(true);
                    return t;
                }));
                server.start();
                System.setProperty("jllm.test.fake-job-service.port", String.valueOf(s.port));
                return s;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        int port() {
            return port;
        }

        private synchronized String callsJson() {
            return calls.toString();
        }

        private void handle(HttpExchange ex) throws IOException {
            String owner = ex.getRequestHeaders().getFirst("X-Owner");
            synchronized (this) {
                ObjectNode c = calls.addObject();
                c.put("method", ex.getRequestMethod());
                c.put("path", ex.getRequestURI().getPath());
                c.put("query", ex.getRequestURI().getRawQuery());
                c.put("owner", owner);
                c.put("token", ex.getRequestHeaders().getFirst("X-Internal-Token"));
                c.put("body", new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            }
            boolean k1;
            try {
                k1 = sha256("k1").equals(owner);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            switch (ex.getRequestMethod()) {
                case "POST" -> send(ex, 201, "{\"id\":\"job_fake\",\"object\":\"job\",\"status\":\"queued\"}");
                case "GET", "DELETE" -> {
                    if (ex.getRequestURI().getPath().equals("/internal/v1/jobs")) {
                        send(ex, 200, "{\"object\":\"list\",\"data\":[],\"has_more\":false}");
                    } else if (!k1 || !ex.getRequestURI().getPath().equals("/internal/v1/jobs/job_fake")) {
                        send(ex, 404, "{\"error\":{\"message\":\"No job found\",\"type\":\"invalid_request_error\",\"param\":\"job_id\",\"code\":\"job_not_found\"}}");
                    } else {
                        send(ex, 200, "{\"id\":\"job_fake\",\"object\":\"job\",\"status\":\"" + (ex.getRequestMethod().equals("GET") ? "running" : "cancelled") + "\"}");
                    }
                }
                default -> send(ex, 405, "{}");
            }
        }

        private void send(HttpExchange ex, int status, String body) throws IOException {
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(status, b.length);
            try (var out = ex.getResponseBody()) {
                out.write(b);
            }
        }
    }
}
