package dev.jllm.tokenizerservice;

import dev.jllm.contracts.ChatMessage;
import dev.jllm.contracts.CompletionRequested;
import dev.jllm.contracts.GenerationEvent;
import dev.jllm.contracts.InferenceCommand;
import dev.jllm.contracts.Json;
import dev.jllm.contracts.Priority;
import dev.jllm.contracts.PromptTokenized;
import dev.jllm.contracts.RequestFailed;
import dev.jllm.contracts.SamplingParams;
import dev.jllm.contracts.Topics;
import dev.jllm.testsupport.KafkaResource;
import dev.jllm.testsupport.KafkaTestClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.*;

/** tokenizer-service between real Kafka topics, with the real stories260K vocabulary. */
@QuarkusTest
@WithTestResource(value = KafkaResource.class)
class TokenizerServiceTest {
    static final Duration WAIT = Duration.ofSeconds(30);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    KafkaTestClient kafka;

    @BeforeEach
    void connect() {
        kafka = new KafkaTestClient(bootstrap, List.of(Topics.INFERENCE_COMMANDS, Topics.GENERATION_EVENTS, Topics.JOB_GENERATION_EVENTS,
                Topics.DEAD_LETTERS));
    }

    @AfterEach
    void disconnect() {
        kafka.close();
    }

    static CompletionRequested request(String id, List<ChatMessage> messages, String prompt, int maxTokens) {
        return new CompletionRequested(id, "gw-1", "conv-" + id, null, "stories260K", messages, prompt,
                SamplingParams.greedy(maxTokens), List.of(), Priority.INTERACTIVE, 1L);
    }

    @Test
    void aPromptBecomesTheGoldenIdsKeyedByConversation() {
        String id = UUID.randomUUID().toString();
        kafka.send(Topics.COMPLETION_REQUESTS, "conv-" + id, Json.write(request(id, null, "Once upon a time", 16)));
        var rec = kafka.await(r -> r.topic().equals(Topics.INFERENCE_COMMANDS) && r.key().equals("conv-" + id), WAIT);
        PromptTokenized p = (PromptTokenized) Json.read(rec.value(), InferenceCommand.class);
        // llama.cpp's ids for this prompt with BOS (../shared/golden/stories260K.llamacpp.kvf32.json)
        assertArrayEquals(new int[] {1, 403, 407, 261, 378}, p.promptIds());
        assertEquals(16, p.params().maxTokens());
        assertEquals("gw-1", p.gatewayId());
    }

    @Test
    void maxTokensZeroMeansWhatFitsAndTooLongIsA400Event() {
        String fits = UUID.randomUUID().toString();
        kafka.send(Topics.COMPLETION_REQUESTS, "conv-" + fits, Json.write(request(fits, null, "Once upon a time", 0)));
        var rec = kafka.await(r -> r.topic().equals(Topics.INFERENCE_COMMANDS) && r.key().equals("conv-" + fits), WAIT);
        PromptTokenized p = (PromptTokenized) Json.read(rec.value(), InferenceCommand.class);
        assertTrue(p.params().maxTokens() > 0, "resolved to the room left in the context");
        assertEquals(p.params().maxTokens() + 5, contextLength());

        String tooLong = UUID.randomUUID().toString();
        kafka.send(Topics.COMPLETION_REQUESTS, "conv-" + tooLong, Json.write(request(tooLong, null, "Once upon a time", 100_000)));
        var err = kafka.await(r -> r.topic().equals(Topics.GENERATION_EVENTS) && r.key().equals(tooLong), WAIT);
        RequestFailed f = (RequestFailed) Json.read(err.value(), GenerationEvent.class);
        assertEquals(400, f.status());
        assertEquals("context_length_exceeded", f.code());
        assertEquals("gw-1", f.gatewayId());
        assertTrue(f.message().contains("maximum context length is " + contextLength()), f.message());
    }

    /** A job item's error goes to the job runner's topic, not to the gateways'. */
    @Test
    void aJobItemsErrorGoesToTheJobEventsTopic() {
        String id = UUID.randomUUID().toString();
        var job = new CompletionRequested(id, Topics.JOB_RUNNER_ID, id, null, "stories260K", null, "Once upon a time",
                SamplingParams.greedy(100_000), List.of(), Priority.BATCH, 1L);
        kafka.send(Topics.COMPLETION_REQUESTS, id, Json.write(job));
        var err = kafka.await(r -> r.key().equals(id) && !r.topic().equals(Topics.COMPLETION_REQUESTS), WAIT);
        assertEquals(Topics.JOB_GENERATION_EVENTS, err.topic());
        RequestFailed f = (RequestFailed) Json.read(err.value(), GenerationEvent.class);
        assertEquals("context_length_exceeded", f.code());
        assertEquals(Topics.JOB_RUNNER_ID, f.gatewayId());
    }

    @Test
    void chatMessagesAreRenderedThroughATemplate() {
        String id = UUID.randomUUID().toString();
        kafka.send(Topics.COMPLETION_REQUESTS, "conv-" + id,
                Json.write(request(id, List.of(new ChatMessage("user", "Hello there")), null, 8)));
        var rec = kafka.await(r -> r.topic().equals(Topics.INFERENCE_COMMANDS) && r.key().equals("conv-" + id), WAIT);
        PromptTokenized p = (PromptTokenized) Json.read(rec.value(), InferenceCommand.class);
        String rendered = given().contentType("application/json")
                .body(Map.of("messages", List.of(Map.of("role", "user", "content", "Hello there"))))
                .post("/apply-template").then().statusCode(200).extract().path("prompt");
        assertTrue(rendered.contains("Hello there"), rendered);
        List<Integer> ids = given().contentType("application/json").body(Map.of("content", rendered, "parse_special", true))
                .post("/tokenize").then().statusCode(200).extract().path("tokens");
        assertEquals(ids, java.util.Arrays.stream(p.promptIds()).boxed().toList());
    }

    @Test
    void aPoisonRecordGoesToTheDeadLetterTopicAndTheNextOneIsServed() {
        kafka.send(Topics.COMPLETION_REQUESTS, "poison", "{not json".getBytes(StandardCharsets.UTF_8));
        var dead = kafka.await(r -> r.topic().equals(Topics.DEAD_LETTERS) && "poison".equals(r.key()), WAIT);
        assertNotNull(dead.headers().lastHeader("dead-letter-reason"), "the reason travels with the record");
        String id = UUID.randomUUID().toString();
        kafka.send(Topics.COMPLETION_REQUESTS, "conv-" + id, Json.write(request(id, null, "Once upon a time", 4)));
        kafka.await(r -> r.topic().equals(Topics.INFERENCE_COMMANDS) && r.key().equals("conv-" + id), WAIT);
    }

    @Test
    void llamaCppStyleTokenizeAndDetokenize() {
        given().contentType("application/json").body(Map.of("content", "Once upon a time", "add_special", true))
                .post("/tokenize").then().statusCode(200).body("tokens", contains(1, 403, 407, 261, 378));
        given().contentType("application/json").body(Map.of("tokens", List.of(403, 407, 261, 378)))
                .post("/detokenize").then().statusCode(200).body("content", equalTo("Once upon a time"));
        given().contentType("application/json").body(Map.of("tokens", List.of(99999)))
                .post("/detokenize").then().statusCode(400).body("error.param", equalTo("tokens"));
        given().contentType("application/json").body(Map.of("content", 5))
                .post("/tokenize").then().statusCode(400).body("error.type", equalTo("invalid_request_error"));
    }

    static int contextLength() {
        return io.quarkus.arc.Arc.container().instance(dev.jllm.tokenizerservice.service.ModelTokenizer.class).get().contextLength();
    }
}
