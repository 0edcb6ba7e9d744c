package dev.jllm.e2e;

import dev.jllm.bench.TraceReport;
import dev.jllm.e2e.LocalStack.Run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.Models;
import dev.jllm.engine.kv.KvCache;
import dev.jllm.tokenizer.Tokenizer;
import dev.jllm.tokenizer.Tokenizers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The whole stack as a user runs it: {@code ./stack up} (real Kafka broker, real PostgreSQL, the four packaged
 * services), OpenAI requests over HTTP, {@code ./stack down}. Answers are checked against llama.cpp's golden
 * output and against the engine run in-process, one prompt at a time (so batching must not change anything).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StackIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(120);

    static Path repo;
    static Path shared;
    static Path model;
    static Path stateDir;
    static int base;
    static Map<String, String> env;
    static HttpClient http;
    static LocalStack stack;

    @BeforeAll
    static void up() throws Exception {
        stack = LocalStack.create(Map.of("JLLM_TRACE", "1")); // per-hop timestamps: see tracedStagesFollowThePipeline
        repo = stack.repo;
        shared = stack.shared;
        model = stack.model;
        stateDir = stack.stateDir;
        base = stack.base;
        env = stack.env;
        http = stack.http;
        Run r = stack("up", Duration.ofMinutes(6));
        assertEquals(0, r.exit(), "./stack up failed:\n" + r.output() + logs());
        assertTrue(r.output().contains("http://127.0.0.1:" + base + "/v1"), r.output());
    }

    @AfterAll
    static void down() throws Exception {
        if (stack != null) stack.close(); // ./stack down, and no process left behind
    }

    // ------------------------------------------------------------------ checks

    @Test
    @Order(1)
    void greedyCompletionEqualsLlamaCppGolden() throws Exception {
        JsonNode golden = JSON.readTree(shared.resolve("golden/stories260K.llamacpp.kvf32.json").toFile());
        int n = golden.get("generated_ids").size();
        JsonNode resp = post("/v1/completions", Map.of("model", "stories260K", "prompt", "Once upon a time",
                "max_tokens", n, "temperature", 0));
        assertEquals(golden.get("generated_text").asText(), resp.at("/choices/0/text").asText());
        assertEquals("length", resp.at("/choices/0/finish_reason").asText());
        assertEquals(golden.get("prompt_ids").size(), resp.at("/usage/prompt_tokens").asInt());
        assertEquals(n, resp.at("/usage/completion_tokens").asInt());
        assertEquals("text_completion", resp.get("object").asText());
    }

    @Test
    @Order(2)
    void streamingEqualsNonStreaming() throws Exception {
        Map<String, Object> body = Map.of("model", "stories260K", "prompt", "Once upon a time", "max_tokens", 40,
                "temperature", 0, "stream", true, "stream_options", Map.of("include_usage", true));
        Stream s = stream("/v1/completions", body);
        JsonNode whole = post("/v1/completions", Map.of("model", "stories260K", "prompt", "Once upon a time", "max_tokens", 40, "temperature", 0));
        assertEquals(whole.at("/choices/0/text").asText(), s.text);
        assertEquals("length", s.finishReason);
        assertEquals(40, s.usage.get("completion_tokens").asInt());
        assertTrue(s.done, "no data: [DONE]");
    }

    @Test
    @Order(3)
    void concurrentRequestsEachGetTheirOwnAnswer() throws Exception {
        List<String> prompts = List.of("Once upon a time", "The cat", "Lily and Tom", "One day, a big dog",
                "The sun was", "There was a boy", "Sam had a red ball", "In the park");
        int maxTokens = 24;
        List<String> expected = new ArrayList<>();
        try (LanguageModel m = Models.load(model)) {
            Tokenizer t = Tokenizers.fromGguf(model);
            for (String p : prompts) expected.add(greedy(m, t, p, maxTokens));
        }
        List<CompletableFuture<String>> answers = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            Map<String, Object> body = Map.of("model", "stories260K", "prompt", prompts.get(i), "max_tokens", maxTokens,
                    "temperature", 0, "stream", i % 2 == 0);
            boolean streamed = i % 2 == 0;
            answers.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return streamed ? stream("/v1/completions", body).text : post("/v1/completions", body).at("/choices/0/text").asText();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        for (int i = 0; i < prompts.size(); i++) {
            assertEquals(expected.get(i), answers.get(i).get(2, TimeUnit.MINUTES), "prompt: " + prompts.get(i));
        }
    }

    @Test
    @Order(4)
    void chatCompletionStreamsRoleThenContent() throws Exception {
        Stream s = stream("/v1/chat/completions", Map.of("model", "stories260K", "max_tokens", 12, "temperature", 0,
                "stream", true, "messages", List.of(Map.of("role", "user", "content", "Tell me a story"))));
        assertEquals("assistant", s.chunks.get(0).at("/choices/0/delta/role").asText());
        assertEquals("chat.completion.chunk", s.chunks.get(0).get("object").asText());
        assertTrue(List.of("length", "stop").contains(s.finishReason), s.finishReason);
        assertTrue(s.done);
    }

    @Test
    @Order(5)
    void errorsAreOpenAiShaped() throws Exception {
        HttpResponse<String> r = raw("/v1/completions", "{\"model\":\"nope\",\"prompt\":\"x\"}");
        assertEquals(404, r.statusCode());
        assertEquals("model_not_found", JSON.readTree(r.body()).at("/error/code").asText());

        r = raw("/v1/chat/completions", "{not json");
        assertEquals(400, r.statusCode());
        assertEquals("invalid_request_error", JSON.readTree(r.body()).at("/error/type").asText());

        // the budget check needs the tokenizer: it comes back through Kafka as an error event
        r = raw("/v1/completions", JSON.writeValueAsString(Map.of("model", "stories260K", "prompt", "Once upon a time",
                "max_tokens", 100_000)));
        assertEquals(400, r.statusCode(), r.body());
        assertEquals("context_length_exceeded", JSON.readTree(r.body()).at("/error/code").asText());
    }

    @Test
    @Order(6)
    void aClientThatDisconnectsCancelsItsGeneration() throws Exception {
        long before = inferenceHealth().at("/data/cancels_received").asLong();
        // a raw client that hangs up as soon as the stream starts (the status line comes with the first token)
        byte[] body = JSON.writeValueAsBytes(Map.of("model", "stories260K", "prompt", "Once upon a time", "max_tokens", 450,
                "temperature", 0, "stream", true));
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", base)) {
            var out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            String status = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            assertEquals("HTTP/1.1 200 OK", status);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        long after = before;
        while (after == before && System.nanoTime() < deadline) {
            Thread.sleep(100);
            after = inferenceHealth().at("/data/cancels_received").asLong();
        }
        assertEquals(before + 1, after, "the inference side never saw the cancel");
    }

    @Test
    @Order(6)
    void aSessionsSecondTurnReusesItsCacheAndAnswersLikeAStatelessRequest() throws Exception {
        String session = "e2e-" + System.nanoTime();
        HttpResponse<String> r1 = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + base + "/v1/completions"))
                .timeout(REQUEST_TIMEOUT).header("Content-Type", "application/json").header("X-Session-Id", session)
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("model", "stories260K",
                        "prompt", "Once upon a time", "max_tokens", 20, "temperature", 0)))).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r1.statusCode(), r1.body());
        JsonNode t1 = JSON.readTree(r1.body());
        assertEquals(0, t1.at("/usage/prompt_tokens_details/cached_tokens").asInt());
        String history = "Once upon a time" + t1.at("/choices/0/text").asText() + " The dog";
        Map<String, Object> body2 = Map.of("model", "stories260K", "prompt", history, "max_tokens", 12, "temperature", 0,
                "session_id", session);
        JsonNode t2 = post("/v1/completions", body2);
        JsonNode stateless = post("/v1/completions", Map.of("model", "stories260K", "prompt", history, "max_tokens", 12, "temperature", 0));
        assertEquals(stateless.at("/choices/0/text").asText(), t2.at("/choices/0/text").asText());
        assertEquals(0, stateless.at("/usage/prompt_tokens_details/cached_tokens").asInt());
        int cached = t2.at("/usage/prompt_tokens_details/cached_tokens").asInt();
        assertTrue(cached >= 5 && cached < t2.at("/usage/prompt_tokens").asInt(), "cached " + cached + " of " + t2.at("/usage/prompt_tokens"));
    }

    @Test
    @Order(7)
    void aSessionSurvivesARestartOfInferenceServiceThroughItsParkedCache() throws Exception {
        String session = "restart-" + System.nanoTime();
        JsonNode t1 = post("/v1/completions", Map.of("model", "stories260K", "prompt", "One day, a big dog", "max_tokens", 16,
                "temperature", 0, "session_id", session));
        Run r = stack("restart inference-service", Duration.ofMinutes(4));
        assertEquals(0, r.exit(), r.output() + logs());
        String history = "One day, a big dog" + t1.at("/choices/0/text").asText() + " Then";
        Map<String, Object> body = Map.of("model", "stories260K", "prompt", history, "max_tokens", 10, "temperature", 0);
        Map<String, Object> withSession = new HashMap<>(body);
        withSession.put("session_id", session);
        JsonNode t2 = post("/v1/completions", withSession);
        JsonNode stateless = post("/v1/completions", body);
        assertEquals(stateless.at("/choices/0/text").asText(), t2.at("/choices/0/text").asText());
        assertTrue(t2.at("/usage/prompt_tokens_details/cached_tokens").asInt() >= 5,
                "the restarted replica restored the parked cache: " + t2.at("/usage"));
    }

    @Test
    @Order(7)
    void aRequestWhoseReplicaDiesMidGenerationIsFinishedByTheNextOne() throws Exception {
        // a slow replica (C1 only: the Vector API runs uncompiled, ~160 tokens/s), so the generation still runs when it dies
        Run slow = stack.run("restart inference-service", Duration.ofMinutes(4), Map.of("JLLM_JAVA_OPTS", "-XX:TieredStopAtLevel=1"));
        assertEquals(0, slow.exit(), slow.output() + logs());
        String prompt = "Once upon a time";
        int maxTokens = 400;
        String expected;
        try (LanguageModel m = Models.load(model)) {
            expected = greedy(m, Tokenizers.fromGguf(model), prompt, maxTokens);
        }
        HttpResponse<java.util.stream.Stream<String>> res = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + base + "/v1/completions"))
                .timeout(REQUEST_TIMEOUT).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("model", "stories260K", "prompt", prompt,
                        "max_tokens", maxTokens, "temperature", 0, "stream", true)))).build(), HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, res.statusCode());
        java.util.concurrent.BlockingQueue<String> events = new java.util.concurrent.LinkedBlockingQueue<>();
        Thread reader = Thread.ofPlatform().daemon().start(() -> res.body().filter(l -> l.startsWith("data: ")).forEach(events::add));
        List<String> before = new ArrayList<>();
        before.add(events.poll(60, TimeUnit.SECONDS)); // the first token: the replica has the request
        assertNotNull(before.getFirst(), "no first token");
        long pid = Long.parseLong(Files.readString(stateDir.resolve("inference-service.pid")).trim());
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly); // kill -9: no goodbye, no commit
        Thread.sleep(2_000); // whatever the dead replica had sent has arrived by now
        events.drainTo(before);
        assertFalse(before.contains("data: [DONE]"), "the replica finished before it was killed: the test proves nothing");

        Run next = stack("restart inference-service", Duration.ofMinutes(4)); // its consumer group hands it the partitions
        assertEquals(0, next.exit(), next.output() + logs());
        List<String> all = new ArrayList<>(before);
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!all.getLast().equals("data: [DONE]")) {
            String e = events.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            assertNotNull(e, "the stream never ended; received " + all.size() + " events" + logs());
            all.add(e);
        }
        reader.join(10_000);
        StringBuilder text = new StringBuilder();
        for (String e : all.subList(0, all.size() - 1)) {
            JsonNode chunk = JSON.readTree(e.substring(6));
            assertFalse(chunk.has("error"), "the stream failed: " + e);
            text.append(chunk.at("/choices/0/text").asText());
        }
        assertEquals(expected, text.toString(), "the next replica served the request again and the gateway sent each token once ("
                + before.size() + " events before the kill)");
    }

    @Test
    @Order(7)
    void twoGatewayReplicasBothStreamTheirOwnRequests() throws Exception {
        Map<String, String> infra = new HashMap<>();
        for (String line : Files.readAllLines(stateDir.resolve("infra.env"))) {
            int eq = line.indexOf('=');
            if (eq > 0) infra.put(line.substring(0, eq), line.substring(eq + 1));
        }
        int port2 = LocalStack.freePort();
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-jar", repo.resolve("gateway-service/" + System.getProperty("jllm.target", "target") + "/quarkus-app/quarkus-run.jar").toString())
                .redirectErrorStream(true).redirectOutput(stateDir.resolve("gateway-2.log").toFile());
        pb.environment().put("KAFKA_BOOTSTRAP_SERVERS", infra.get("KAFKA_BOOTSTRAP_SERVERS"));
        pb.environment().put("GATEWAY_PORT", String.valueOf(port2));
        pb.environment().put("HTTP_HOST", "127.0.0.1");
        pb.environment().put("JLLM_MODEL_NAME", "stories260K");
        Process second = pb.start();
        try {
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (true) {
                assertTrue(second.isAlive(), "second gateway died: " + Files.readString(stateDir.resolve("gateway-2.log")));
                assertTrue(System.nanoTime() < deadline, "second gateway not ready in time");
                try {
                    if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port2 + "/q/health/ready")).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode() == 200) break;
                } catch (IOException notYet) {
                    // not listening yet
                }
                Thread.sleep(250);
            }
            List<String> prompts = List.of("Once upon a time", "The cat", "Lily and Tom", "The sun was", "Sam had a red ball", "In the park");
            List<String> expected = new ArrayList<>();
            try (LanguageModel m = Models.load(model)) {
                Tokenizer t = Tokenizers.fromGguf(model);
                for (String p : prompts) expected.add(greedy(m, t, p, 16));
            }
            List<CompletableFuture<String>> answers = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                int port = i % 2 == 0 ? base : port2;
                String body = JSON.writeValueAsString(Map.of("model", "stories260K", "prompt", prompts.get(i), "max_tokens", 16,
                        "temperature", 0, "stream", true));
                answers.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/completions"))
                                .timeout(REQUEST_TIMEOUT).header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                        StringBuilder sb = new StringBuilder();
                        for (String line : r.body().split("\n")) {
                            if (line.startsWith("data: {")) sb.append(JSON.readTree(line.substring(6)).at("/choices/0/text").asText());
                        }
                        return r.statusCode() + ":" + sb;
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }));
            }
            for (int i = 0; i < prompts.size(); i++) {
                assertEquals("200:" + expected.get(i), answers.get(i).get(2, TimeUnit.MINUTES), "prompt " + prompts.get(i) + " via gateway " + (i % 2 + 1));
            }
        } finally {
            second.destroy();
            if (!second.waitFor(20, TimeUnit.SECONDS)) second.destroyForcibly();
        }
    }

    @Test
    @Order(8)
    void gatewayMetricsShowLatenciesAndTheInferenceReplica() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String metrics = "";
        while (System.nanoTime() < deadline) {
            metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            if (metrics.contains("jllm_inference_replicas 1.0")) break;
            Thread.sleep(250);
        }
        assertTrue(metrics.contains("jllm_inference_replicas 1.0"), "the replica's stats never reached the gateway:\n" + metrics);
        for (String series : List.of("jllm_time_to_first_token_seconds_count", "jllm_inter_token_latency_seconds_count",
                "jllm_request_latency_seconds_count", "jllm_requests_total{outcome=\"length\"}", "jllm_queue_depth",
                "jllm_running_sequences", "jllm_kv_cache_bytes", "jllm_generated_tokens_total")) {
            assertTrue(metrics.contains(series), series + " missing from /metrics");
        }
    }

    @Test
    @Order(8)
    void tracedStagesFollowThePipeline() throws Exception {
        for (int i = 0; i < 5; i++) {
            stream("/v1/completions", Map.of("model", "stories260K", "prompt", "Once upon a time", "max_tokens", 4,
                    "temperature", 0, "stream", true));
        }
        List<Map<String, Long>> traced = TraceReport.complete(TraceReport.load(stateDir), Integer.MAX_VALUE);
        assertTrue(traced.size() >= 5, "only " + traced.size() + " streamed requests traced end to end");
        List<String> stages = new ArrayList<>();
        for (TraceReport.Step s : TraceReport.steps(traced)) {
            if (stages.isEmpty()) stages.add(s.from());
            stages.add(s.to());
            assertTrue(s.p50Micros() >= 0 && s.p50Micros() < 10_000_000, s + " is not a plausible step");
        }
        assertEquals(List.of(TraceReport.START, "sent:completion-requests", "polled:completion-requests", "tokenizer.start",
                "tokenizer.done", "sent:inference-commands", "polled:inference-commands", "inference.command-received",
                "inference.first-token", "sent:generation-events", "polled:generation-events",
                "gateway.first-event-received", TraceReport.END), stages);
        // the hot channels send on the caller's thread (DirectSender), not through the emitter's sending thread
        String logs = Files.readString(stateDir.resolve("gateway-service.log")) + Files.readString(stateDir.resolve("tokenizer-service.log"))
                + Files.readString(stateDir.resolve("inference-service.log"));
        for (String channel : List.of("completion-requests", "inference-cancels", "inference-commands", "generation-events")) {
            assertTrue(logs.contains("channel " + channel + ": records go straight to the Kafka producer"), channel + " uses the emitter");
        }
    }

    @Test
    @Order(9)
    void stackUpTwiceSaysItIsAlreadyRunning() throws Exception {
        Run r = stack("up", Duration.ofMinutes(1));
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("already running"), r.output());
    }

    @Test
    @Order(10)
    void downThenUpAgainServesWithTheSameState() throws Exception {
        Run down = stack("down", Duration.ofMinutes(2));
        assertEquals(0, down.exit(), down.output());
        Run status = stack("status", Duration.ofSeconds(30));
        assertFalse(status.output().contains("running"), status.output());
        Run up = stack("up", Duration.ofMinutes(6));
        assertEquals(0, up.exit(), "second ./stack up failed:\n" + up.output() + logs());
        JsonNode r = post("/v1/completions", Map.of("model", "stories260K", "prompt", "Once upon a time", "max_tokens", 4, "temperature", 0));
        assertEquals(4, r.at("/usage/completion_tokens").asInt());
    }

    // ------------------------------------------------------------------ helpers

    /** The engine alone, greedy, one prompt: the reference for what the stack must answer. */
    static String greedy(LanguageModel m, Tokenizer t, String prompt, int maxTokens) {
        int[] ids = t.encode(prompt, true, false);
        KvCache cache = m.newCache();
        float[] logits = m.forward(cache, ids);
        var decoder = t.newStreamingDecoder(List.of());
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < maxTokens; i++) {
            int best = 0;
            for (int v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
            if (t.isEog(best)) break;
            out.append(decoder.accept(best).text());
            if (i + 1 < maxTokens) logits = m.forward(cache, best);
        }
        return out.append(decoder.finish()).toString();
    }

    static Run stack(String command, Duration timeout) throws Exception {
        return stack.run(command, timeout);
    }

    static String logs() throws IOException {
        return stack.logs();
    }

    static JsonNode post(String path, Object body) throws Exception {
        HttpResponse<String> r = raw(path, JSON.writeValueAsString(body));
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    static HttpResponse<String> raw(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + base + path)).timeout(REQUEST_TIMEOUT)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The scheduler's figures from inference-service's readiness check. */
    static JsonNode inferenceHealth() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + (base + 2) + "/q/health/ready"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        for (JsonNode check : JSON.readTree(r.body()).get("checks")) {
            if (check.path("name").asText().equals("model-loaded")) return check;
        }
        throw new AssertionError("no model-loaded check in " + r.body());
    }

    static final class Stream {
        final List<JsonNode> chunks = new ArrayList<>();
        String text = "";
        String finishReason;
        JsonNode usage;
        boolean done;
    }

    static Stream stream(String path, Object body) throws Exception {
        HttpResponse<String> r = raw(path, JSON.writeValueAsString(body));
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        Stream s = new Stream();
        StringBuilder text = new StringBuilder();
        for (String line : r.body().split("\n")) {
            if (!line.startsWith("data: ")) continue;
            String data = line.substring(6);
            if (data.equals("[DONE]")) {
                s.done = true;
                continue;
            }
            assertFalse(s.done, "data after [DONE]");
            JsonNode c = JSON.readTree(data);
            s.chunks.add(c);
            if (c.hasNonNull("usage")) s.usage = c.get("usage");
            JsonNode choice = c.path("choices").path(0);
            if (choice.isMissingNode()) continue;
            if (choice.has("text")) text.append(choice.get("text").asText());
            if (choice.path("delta").has("content")) text.append(choice.path("delta").get("content").asText());
            if (choice.hasNonNull("finish_reason")) s.finishReason = choice.get("finish_reason").asText();
        }
        s.text = text.toString();
        return s;
    }
}
