package dev.jllm.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jllm.contracts.ChatMessage;
import dev.jllm.contracts.CompletionRequested;
import dev.jllm.contracts.FinishReason;
import dev.jllm.contracts.GenerationCancelled;
import dev.jllm.contracts.InferenceCommand;
import dev.jllm.contracts.RequestFailed;
import dev.jllm.contracts.TokenGenerated;
import dev.jllm.contracts.TokenLogprob;
import dev.jllm.contracts.Usage;
import dev.jllm.testsupport.KafkaResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The gateway over HTTP against a real Kafka broker; the test plays tokenizer- and inference-service: it reads
 * the {@code CompletionRequested} the gateway produced and answers with generation events addressed to it.
 */
@QuarkusTest
@TestProfile(GatewayApiTest.Profile.class)
@WithTestResource(KafkaResource.class)
class GatewayApiTest extends GatewayHttpTestBase {
    static final String GW = "gw-api-test";

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("jllm.gateway.instance-id", GW, "jllm.gateway.models", "m1,m2");
        }
    }

    private static String marker() {
        return "q-" + UUID.randomUUID();
    }

    private static TokenGenerated token(CompletionRequested r, int index, int tokenId, String text) {
        return new TokenGenerated(r.requestId(), r.gatewayId(), index, tokenId, text, null, null, null);
    }

    private static TokenGenerated last(CompletionRequested r, int index, String text, FinishReason why, Usage usage) {
        return new TokenGenerated(r.requestId(), r.gatewayId(), index, text.isEmpty() ? -1 : 7, text, null, why, usage);
    }

    // ---- non-streaming ----

    @Test
    void chatCompletionIsOneOpenAiObject() {
        String q = marker();
        var pending = postAsync("/v1/chat/completions", chatBody("m1", q, ",\"temperature\":0.5,\"max_tokens\":9"),
                "X-Session-Id", "sess-42");
        var produced = pipeline.awaitChat(q);
        CompletionRequested r = produced.value();
        assertEquals("sess-42", produced.key(), "keyed by the conversation");
        assertEquals("sess-42", r.sessionId());
        assertEquals(GW, r.gatewayId());
        assertEquals("m1", r.model());
        assertEquals(List.of(new ChatMessage("user", q)), r.messages());
        assertEquals(0.5, r.params().temperature());
        assertEquals(9, r.params().maxTokens());

        pipeline.send(token(r, 0, 15043, "Hello"));
        pipeline.send(token(r, 1, 3186, " world"));
        pipeline.send(last(r, 2, "", FinishReason.STOP, new Usage(12, 2, 4)));

        HttpResponse<String> res = join(pending);
        assertEquals(200, res.statusCode(), res.body());
        assertTrue(res.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        assertEquals(expected("""
                {'id':'$ID','object':'chat.completion','created':$CREATED,'model':'m1','system_fingerprint':'jllm',
                 'choices':[{'index':0,'message':{'role':'assistant','content':'Hello world','refusal':null},
                             'logprobs':null,'finish_reason':'stop'}],
                 'usage':{'prompt_tokens':12,'completion_tokens':2,'total_tokens':14,'prompt_tokens_details':{'cached_tokens':4}}}
                """, r), json(res.body()));
    }

    @Test
    void chatLogprobsAreReportedPerToken() {
        String q = marker();
        var pending = postAsync("/v1/chat/completions", chatBody("m2", q, ",\"logprobs\":true,\"top_logprobs\":2"));
        CompletionRequested r = pipeline.awaitChat(q).value();
        assertTrue(r.params().logprobs());
        assertEquals(2, r.params().topLogprobs());
        var lp = new TokenLogprob("Hi", 5, -0.25, List.of(new TokenLogprob.Alternative("Hi", 5, -0.25),
                new TokenLogprob.Alternative("Hé", 6, -1.5)));
        pipeline.send(new TokenGenerated(r.requestId(), GW, 0, 5, "Hi", lp, null, null));
        pipeline.send(last(r, 1, "", FinishReason.LENGTH, new Usage(3, 1, 0)));

        HttpResponse<String> res = join(pending);
        assertEquals(200, res.statusCode(), res.body());
        assertEquals(expected("""
                {'id':'$ID','object':'chat.completion','created':$CREATED,'model':'m2','system_fingerprint':'jllm',
                 'choices':[{'index':0,'message':{'role':'assistant','content':'Hi','refusal':null},
                   'logprobs':{'content':[{'token':'Hi','logprob':-0.25,'bytes':[72,105],'top_logprobs':[
                        {'token':'Hi','logprob':-0.25,'bytes':[72,105]},{'token':'Hé','logprob':-1.5,'bytes':[72,195,169]}]}],
                     'refusal':null},
                   'finish_reason':'length'}],
                 'usage':{'prompt_tokens':3,'completion_tokens':1,'total_tokens':4,'prompt_tokens_details':{'cached_tokens':0}}}
                """, r), json(res.body()));
    }

    @Test
    void legacyCompletionIsATextCompletionObject() {
        String q = marker();
        var pending = postAsync("/v1/completions", "{\"model\":\"m1\",\"prompt\":\"" + q + "\",\"max_tokens\":3,\"echo\":true}");
        var produced = pipeline.awaitPrompt(q);
        CompletionRequested r = produced.value();
        assertEquals(r.requestId(), produced.key(), "no session: keyed by the request id");
        assertNull(r.messages());
        assertEquals(3, r.params().maxTokens());
        pipeline.send(token(r, 0, 11, " a"));
        pipeline.send(token(r, 1, 12, " b"));
        pipeline.send(last(r, 2, " c", FinishReason.LENGTH, new Usage(5, 3, 0)));

        HttpResponse<String> res = join(pending);
        assertEquals(200, res.statusCode(), res.body());
        assertEquals(expected("""
                {'id':'$ID','object':'text_completion','created':$CREATED,'model':'m1','system_fingerprint':'jllm',
                 'choices':[{'index':0,'text':'%s a b c','logprobs':null,'finish_reason':'length'}],
                 'usage':{'prompt_tokens':5,'completion_tokens':3,'total_tokens':8,'prompt_tokens_details':{'cached_tokens':0}}}
                """.formatted(q), r), json(res.body()));
        assertTrue(r.requestId().startsWith("cmpl-"), r.requestId());
    }

    // ---- streaming ----

    @Test
    void chatStreamIsRoleThenDeltasThenFinishThenDone() {
        String q = marker();
        var pending = postAsync("/v1/chat/completions", chatBody("m1", q, ",\"stream\":true"));
        CompletionRequested r = pipeline.awaitChat(q).value();
        pipeline.send(token(r, 0, 15043, "Hello"));
        pipeline.send(token(r, 1, 3186, " world"));
        pipeline.send(last(r, 2, "", FinishReason.STOP, new Usage(12, 2, 0)));

        HttpResponse<String> res = join(pending);
        assertEquals(200, res.statusCode(), res.body());
        assertTrue(res.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        assertEquals(r.requestId(), res.headers().firstValue("X-Request-Id").orElse(null));
        List<String> events = sseEvents(res.body());
        String chunk = "{'id':'$ID','object':'chat.completion.chunk','created':$CREATED,'model':'m1','system_fingerprint':'jllm',"
                + "'choices':[{'index':0,'delta':%s,'logprobs':null,'finish_reason':%s}]}";
        assertEquals(5, events.size(), res.body());
        assertEquals(expected(chunk.formatted("{'role':'assistant','content':''}", "null"), r), data(events.get(0)));
        assertEquals(expected(chunk.formatted("{'content':'Hello'}", "null"), r), data(events.get(1)));
        assertEquals(expected(chunk.formatted("{'content':' world'}", "null"), r), data(events.get(2)));
        assertEquals(expected(chunk.formatted("{}", "'stop'"), r), data(events.get(3)));
        assertEquals("data: [DONE]", events.get(4));
    }

    @Test
    void includeUsageAddsAUsageChunkBeforeDone() {
        String q = marker();
        var pending = postAsync("/v1/chat/completions", chatBody("m1", q, ",\"stream\":true,\"stream_options\":{\"include_usage\":true}"));
        CompletionRequested r = pipeline.awaitChat(q).value();
        pipeline.send(token(r, 0, 9, "Yes"));
        pipeline.send(last(r, 1, ".", FinishReason.STOP, new Usage(7, 2, 3)));

        HttpResponse<String> res = join(pending);
        assertEquals(200, res.statusCode(), res.body());
        List<String> events = sseEvents(res.body());
        String chunk = "{'id':'$ID','object':'chat.completion.chunk','created':$CREATED,'model':'m1','system_fingerprint':'jllm',"
                + "'choices':[{'index':0,'delta':%s,'logprobs':null,'finish_reason':%s}],'usage':null}";
        assertEquals(6, events.size(), res.body());
        assertEquals(expected(chunk.formatted("{'role':'assistant','content':''}", "null"), r), data(events.get(0)));
        assertEquals(expected(chunk.formatted("{'content':'Yes'}", "null"), r), data(events.get(1)));
        assertEquals(expected(chunk.formatted("{'content':'.'}", "null"), r), data(events.get(2)), "text flushed by the last event");
        assertEquals(expected(chunk.formatted("{}", "'stop'"), r), data(events.get(3)));
        assertEquals(expected("""
                {'id':'$ID','object':'chat.completion.chunk','created':$CREATED,'model':'m1','system_fingerprint':'jllm','choices':[],
                 'usage':{'prompt_tokens':7,'completion_tokens':2,'total_tokens':9,'prompt_tokens_details':{'cached_tokens':3}}}
                """, r), data(events.get(4)));
        assertEquals("data: [DONE]", events.get(5));
    }

    @Test
    void legacyCompletionStreamHasTextChunksAndNoRoleChunk() {
        String q = marker();
        var pending = postAsync("/v1/completions", "{\"model\":\"m2\",\"prompt\":\"" + q + "\",\"stream\":true}");
        CompletionRequested r = pipeline.awaitPrompt(q).value();
        pipeline.send(token(r, 0, 1, "one"));
        pipeline.send(last(r, 1, "", FinishReason.LENGTH, new Usage(2, 1, 0)));

        HttpResponse<String> res = join(pending);
        assertEquals(200, res.statusCode(), res.body());
        List<String> events = sseEvents(res.body());
        String chunk = "{'id':'$ID','object':'text_completion','created':$CREATED,'model':'m2','system_fingerprint':'jllm',"
                + "'choices':[{'index':0,'text':%s,'logprobs':null,'finish_reason':%s}]}";
        assertEquals(List.of(expected(chunk.formatted("'one'", "null"), r), expected(chunk.formatted("''", "'length'"), r)),
                List.of(data(events.get(0)), data(events.get(1))));
        assertEquals(List.of("data: [DONE]"), events.subList(2, events.size()));
    }

    @Test
    void legacyStreamWithEchoSendsThePromptFirst() {
        String q = marker();
        var pending = postAsync("/v1/completions", "{\"model\":\"m1\",\"prompt\":\"" + q + "\",\"stream\":true,\"echo\":true}");
        CompletionRequested r = pipeline.awaitPrompt(q).value();
        pipeline.send(token(r, 0, 1, " two"));
        pipeline.send(last(r, 1, "", FinishReason.STOP, new Usage(2, 1, 0)));

        HttpResponse<String> res = join(pending);
        assertEquals(200, res.statusCode(), res.body());
        List<String> events = sseEvents(res.body());
        assertEquals(4, events.size(), res.body());
        assertEquals(q, data(events.get(0)).at("/choices/0/text").asText());
        assertEquals(" two", data(events.get(1)).at("/choices/0/text").asText());
        assertEquals("stop", data(events.get(2)).at("/choices/0/finish_reason").asText());
        assertEquals("data: [DONE]", events.get(3));
    }

    @Test
    void aRedeliveredEventIsNotSentTwice() {
        String q = marker();
        var pending = postAsync("/v1/chat/completions", chatBody("m1", q, ",\"stream\":true"));
        CompletionRequested r = pipeline.awaitChat(q).value();
        pipeline.send(token(r, 0, 1, "A"));
        pipeline.send(token(r, 0, 1, "A"));
        pipeline.send(token(r, 1, 2, "B"));
        pipeline.send(token(r, 0, 1, "A"));
        pipeline.send(token(r, 1, 2, "B"));
        pipeline.send(last(r, 2, "", FinishReason.STOP, new Usage(1, 2, 0)));
        pipeline.send(last(r, 2, "", FinishReason.STOP, new Usage(1, 2, 0)));

        HttpResponse<String> res = join(pending);
        assertEquals(200, res.statusCode(), res.body());
        List<String> events = sseEvents(res.body());
        assertEquals(5, events.size(), res.body());
        assertEquals("A", data(events.get(1)).at("/choices/0/delta/content").asText());
        assertEquals("B", data(events.get(2)).at("/choices/0/delta/content").asText());
        assertEquals("stop", data(events.get(3)).at("/choices/0/finish_reason").asText());
        assertEquals("data: [DONE]", events.get(4));
    }

    // ---- failures reported by the pipeline ----

    @Test
    void aFailureBeforeAnyTokenIsThatHttpStatus() {
        String q = marker();
        var pending = postAsync("/v1/chat/completions", chatBody("m1", q, ""));
        CompletionRequested r = pipeline.awaitChat(q).value();
        pipeline.send(new RequestFailed(r.requestId(), GW, 400, "invalid_request_error",
                "This model has a context of 64 tokens; your messages are 80.", "messages", "context_length_exceeded"));
        HttpResponse<String> res = join(pending);
        assertEquals(400, res.statusCode(), res.body());
        assertEquals(json("""
                {"error":{"message":"This model has a context of 64 tokens; your messages are 80.","type":"invalid_request_error",
                          "param":"messages","code":"context_length_exceeded"}}"""), json(res.body()));

        // a stream that has not started yet fails the same way: a status, not an event
        String q2 = marker();
        var streaming = postAsync("/v1/chat/completions", chatBody("m1", q2, ",\"stream\":true"));
        CompletionRequested r2 = pipeline.awaitChat(q2).value();
        pipeline.send(new RequestFailed(r2.requestId(), GW, 503, "service_unavailable", "No replica serves m1.", null, null));
        HttpResponse<String> res2 = join(streaming);
        assertEquals(503, res2.statusCode(), res2.body());
        assertEquals(json("{\"error\":{\"message\":\"No replica serves m1.\",\"type\":\"service_unavailable\",\"param\":null,\"code\":null}}"),
                json(res2.body()));
    }

    @Test
    void aFailureWithANonsenseStatusIsStillAnAnswer() {
        String q = marker();
        var pending = postAsync("/v1/chat/completions", chatBody("m1", q, ""));
        CompletionRequested r = pipeline.awaitChat(q).value();
        pipeline.send(new RequestFailed(r.requestId(), GW, 0, null, "broken replica", null, null));
        HttpResponse<String> res = join(pending);
        assertEquals(500, res.statusCode(), res.body());
        assertEquals(json("{\"error\":{\"message\":\"broken replica\",\"type\":\"server_error\",\"param\":null,\"code\":null}}"),
                json(res.body()));
    }

    @Test
    void aFailureAfterTheStreamStartedIsAnSseErrorEventThenTheEnd() {
        String q = marker();
        var pending = postAsync("/v1/chat/completions", chatBody("m1", q, ",\"stream\":true"));
        CompletionRequested r = pipeline.awaitChat(q).value();
        pipeline.send(token(r, 0, 5, "Hi"));
        pipeline.send(new RequestFailed(r.requestId(), GW, 500, "server_error", "The inference replica was lost.", null, "replica_lost"));
        pipeline.send(token(r, 1, 6, " there")); // after the error: never sent

        HttpResponse<String> res = join(pending);
        assertEquals(200, res.statusCode(), "headers went out with the first token");
        List<String> events = sseEvents(res.body());
        assertEquals(4, events.size(), res.body());
        assertEquals("assistant", data(events.get(0)).at("/choices/0/delta/role").asText());
        assertEquals("Hi", data(events.get(1)).at("/choices/0/delta/content").asText());
        String error = events.get(2);
        assertTrue(error.startsWith("event: error\n"), error);
        assertEquals(json("{\"error\":{\"message\":\"The inference replica was lost.\",\"type\":\"server_error\",\"param\":null,\"code\":\"replica_lost\"}}"),
                data(error.substring("event: error\n".length())));
        assertEquals("data: [DONE]", events.get(3));
    }

    // ---- client gone ----

    @Test
    void aClientThatDisconnectsMidStreamCancelsItsGeneration() throws Exception {
        String q = marker();
        byte[] body = chatBody("m1", q, ",\"stream\":true").getBytes(StandardCharsets.UTF_8);
        CompletionRequested r;
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            socket.setSoTimeout((int) FakePipeline.WAIT.toMillis());
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "X-Session-Id: sess-gone\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            r = pipeline.awaitChat(q).value();
            pipeline.send(token(r, 0, 5, "Hi"));
            String seen = readUntil(socket.getInputStream(), "\"content\":\"Hi\"");
            assertTrue(seen.startsWith("HTTP/1.1 200"), seen);
            assertTrue(seen.toLowerCase(java.util.Locale.ROOT).contains("\r\nx-session-id: sess-gone\r\n"), seen);
        } // the client hangs up mid-stream

        var cancel = pipeline.awaitCommand(r.requestId());
        assertEquals("sess-gone", cancel.key(), "same key as the request: same partition, same replica");
        InferenceCommand c = cancel.value();
        assertEquals(new GenerationCancelled(r.requestId(), "sess-gone", "client disconnected"), c);
        pipeline.send(token(r, 1, 6, " there")); // late tokens of a cancelled request are dropped quietly
        assertEquals(List.of(), pipeline.commandsWithin(r.requestId(), Duration.ofMillis(300)), "one cancel only");
    }

    private static String readUntil(InputStream in, String needle) throws Exception {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        long deadline = System.nanoTime() + FakePipeline.WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            int n = in.read(buf);
            if (n < 0) break;
            got.write(buf, 0, n);
            if (got.toString(StandardCharsets.UTF_8).contains(needle)) return got.toString(StandardCharsets.UTF_8);
        }
        throw new AssertionError("never saw " + needle + " in " + got.toString(StandardCharsets.UTF_8));
    }

    // ---- requests the gateway refuses itself ----

    @Test
    void invalidRequestsAreOpenAiErrorsAndProduceNothing() {
        HttpResponse<String> bad = post("/v1/chat/completions", "{\"model\":\"m1\",\"messages\":");
        assertEquals(400, bad.statusCode());
        assertEquals("invalid_request_error", json(bad.body()).at("/error/type").asText());
        assertTrue(json(bad.body()).at("/error/param").isNull());

        HttpResponse<String> unknown = post("/v1/chat/completions", chatBody("gpt-9", "x", ""));
        assertEquals(404, unknown.statusCode());
        assertEquals("model_not_found", json(unknown.body()).at("/error/code").asText());

        HttpResponse<String> n2 = post("/v1/completions", "{\"model\":\"m1\",\"prompt\":\"x\",\"n\":2}");
        assertEquals(400, n2.statusCode());
        assertEquals("n", json(n2.body()).at("/error/param").asText());
    }

    // ---- deployment ----

    /**
     * Events are addressed to one instance but keyed by request id, so every instance must read every
     * partition: its consumer group must be its own, never the application name that all replicas share.
     */
    @Test
    @SuppressWarnings("deprecation") // listConsumerGroups: still the plain way to list classic groups
    void theGatewayReadsEveryGenerationEventPartitionInAGroupOfItsOwn() throws Exception {
        String bootstrap = ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            List<String> groups = admin.listConsumerGroups().all().get(30, TimeUnit.SECONDS).stream()
                    .map(ConsumerGroupListing::groupId).toList();
            Map<String, ConsumerGroupDescription> described = admin.describeConsumerGroups(groups).all().get(30, TimeUnit.SECONDS);
            List<ConsumerGroupDescription> readers = described.values().stream()
                    .filter(g -> g.members().stream().anyMatch(m -> m.assignment().topicPartitions().stream()
                            .anyMatch(tp -> tp.topic().equals("generation-events"))))
                    .toList();
            assertEquals(1, readers.size(), "groups reading generation-events: " + described.keySet());
            ConsumerGroupDescription g = readers.getFirst();
            assertNotEquals("gateway-service", g.groupId(), "a group shared by all replicas splits the partitions between them");
            assertEquals(1, g.members().size());
            MemberDescription m = g.members().iterator().next();
            assertEquals(Set.of(0, 1, 2, 3), m.assignment().topicPartitions().stream()
                    .filter(tp -> tp.topic().equals("generation-events")).map(TopicPartition::partition).collect(Collectors.toSet()));
        }
    }

    // ---- models and metrics ----

    @Test
    void modelsAreListedAndAnUnknownOneIs404() {
        HttpResponse<String> list = get("/v1/models");
        assertEquals(200, list.statusCode());
        JsonNode root = json(list.body());
        assertEquals("list", root.get("object").asText());
        assertEquals(2, root.get("data").size());
        for (int i = 0; i < 2; i++) {
            JsonNode m = root.get("data").get(i);
            assertEquals(List.of("m1", "m2").get(i), m.get("id").asText());
            assertEquals("model", m.get("object").asText());
            assertEquals("jllm", m.get("owned_by").asText());
            assertTrue(m.get("created").isIntegralNumber() && m.get("created").asLong() > 1_600_000_000L, m.toString());
        }
        HttpResponse<String> one = get("/v1/models/m2");
        assertEquals(200, one.statusCode());
        assertEquals(root.get("data").get(1), json(one.body()));

        HttpResponse<String> none = get("/v1/models/nope");
        assertEquals(404, none.statusCode());
        assertEquals(json("{\"error\":{\"message\":\"The model `nope` does not exist or you do not have access to it.\","
                + "\"type\":\"invalid_request_error\",\"param\":\"model\",\"code\":\"model_not_found\"}}"), json(none.body()));
    }

    @Test
    void metricsExposeLatencyHistogramsAndCounters() {
        double tokensBefore = metric(get("/metrics").body(), "jllm_generated_tokens_total");
        double stopBefore = metric(get("/metrics").body(), "jllm_requests_total{outcome=\"stop\"}");

        String q = marker();
        CompletableFuture<HttpResponse<String>> pending = postAsync("/v1/chat/completions", chatBody("m1", q, ""));
        CompletionRequested r = pipeline.awaitChat(q).value();
        pipeline.send(token(r, 0, 1, "a"));
        pipeline.send(token(r, 1, 2, "b"));
        pipeline.send(token(r, 2, 3, "c"));
        pipeline.send(last(r, 3, "", FinishReason.STOP, new Usage(4, 3, 0)));
        assertEquals(200, join(pending).statusCode());

        HttpResponse<String> res = get("/metrics");
        assertEquals(200, res.statusCode());
        assertTrue(res.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        String text = res.body();
        for (String series : List.of("jllm_time_to_first_token_seconds_bucket{le=\"0.005\"}",
                "jllm_time_to_first_token_seconds_count", "jllm_inter_token_latency_seconds_bucket{le=\"0.001\"}",
                "jllm_request_latency_seconds_bucket{le=\"30.0\"}", "jllm_request_latency_seconds_sum",
                "jllm_prompt_tokens_count", "jllm_requests_in_flight")) {
            metric(text, series); // present and numeric
        }
        assertEquals(tokensBefore + 3, metric(text, "jllm_generated_tokens_total"), 1e-9);
        assertEquals(stopBefore + 1, metric(text, "jllm_requests_total{outcome=\"stop\"}"), 1e-9);
        assertTrue(metric(text, "jllm_inter_token_latency_seconds_count") >= 3, "three gaps between four events");
    }

    /** The value of one series in the Prometheus text format (0 when a counter was never incremented). */
    private static double metric(String text, String series) {
        for (String line : text.split("\n")) {
            if (line.startsWith(series + " ")) return Double.parseDouble(line.substring(series.length() + 1).trim());
        }
        if (series.startsWith("jllm_requests_total{")) return 0; // registered on its first increment
        throw new AssertionError("no series " + series + " in\n" + text);
    }
}
