package dev.jllm.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jllm.contracts.CompletionRequested;
import dev.jllm.contracts.FinishReason;
import dev.jllm.contracts.GenerationCancelled;
import dev.jllm.contracts.InferenceCommand;
import dev.jllm.contracts.JobCancelled;
import dev.jllm.contracts.JobEvent;
import dev.jllm.contracts.JobFinished;
import dev.jllm.contracts.JobItem;
import dev.jllm.contracts.JobItemCompleted;
import dev.jllm.contracts.JobSubmitted;
import dev.jllm.contracts.Json;
import dev.jllm.contracts.Priority;
import dev.jllm.contracts.TokenGenerated;
import dev.jllm.contracts.Topics;
import dev.jllm.contracts.Usage;
import dev.jllm.testsupport.KafkaResource;
import dev.jllm.testsupport.KafkaTestClient;
import dev.jllm.testsupport.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.jllm.session.InternalApi.api;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The job runner on the real broker and database; the test plays the tokenizer and inference services (it
 * reads the item requests and writes their generation events) and the clients (HTTP and Kafka-native).
 */
@QuarkusTest
@WithTestResource(value = PostgresResource.class, parallel = true)
@WithTestResource(value = KafkaResource.class, parallel = true)
@WithTestResource(value = InternalApi.class, parallel = true)
class JobsTest {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final String OWNER = "c".repeat(64), OTHER = "d".repeat(64);
    static final ObjectMapper MAPPER = new ObjectMapper();

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    KafkaTestClient client() {
        return new KafkaTestClient(bootstrap, List.of(Topics.COMPLETION_REQUESTS, Topics.INFERENCE_COMMANDS, Topics.JOB_RESULTS));
    }

    static String chatItem(String content) {
        return "{\"custom_id\":\"" + content + "\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"m\",\"messages\":"
                + "[{\"role\":\"user\",\"content\":\"" + content + "\"}],\"max_tokens\":4,\"temperature\":0}}";
    }

    /** The item request the runner produced for the chat item with this content. */
    static CompletionRequested awaitRequest(KafkaTestClient k, String content) {
        ConsumerRecord<String, byte[]> r = k.await(rec -> rec.topic().equals(Topics.COMPLETION_REQUESTS)
                && content.equals(Json.read(rec.value(), CompletionRequested.class).messages().getFirst().content()), WAIT);
        CompletionRequested req = Json.read(r.value(), CompletionRequested.class);
        assertEquals(req.requestId(), r.key(), "keyed by its request id");
        return req;
    }

    /** Plays the inference side: the words as token events, the last one with usage. */
    static void generate(KafkaTestClient k, CompletionRequested r, String... words) {
        for (int i = 0; i < words.length; i++) {
            boolean last = i == words.length - 1;
            var t = new TokenGenerated(r.requestId(), r.gatewayId(), i, last ? -1 : 10 + i, words[i], null,
                    last ? FinishReason.STOP : null, last ? new Usage(5, words.length - 1, 0) : null);
            k.send(Topics.generationEventsTopic(r.gatewayId()), r.requestId(), Json.write(t));
        }
    }

    static <T extends JobEvent> T awaitResult(KafkaTestClient k, Class<T> type, String jobId, int index) {
        ConsumerRecord<String, byte[]> r = k.await(rec -> rec.topic().equals(Topics.JOB_RESULTS) && jobId.equals(rec.key())
                && type.isInstance(Json.read(rec.value(), JobEvent.class))
                && (!(Json.read(rec.value(), JobEvent.class) instanceof JobItemCompleted c) || c.index() == index), WAIT);
        return type.cast(Json.read(r.value(), JobEvent.class));
    }

    static JsonNode awaitStatus(String id, String status) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            JsonNode job = MAPPER.readTree(api().header("X-Owner", OWNER).get("/internal/v1/jobs/" + id).then().statusCode(200)
                    .extract().asString());
            if (job.get("status").asText().equals(status)) return job;
            if (System.nanoTime() > deadline) fail("job " + id + " not " + status + ": " + job);
            Thread.sleep(50);
        }
    }

    @Test
    void aJobPostedOverHttpRunsItsItemsAtBatchPriorityAndCollectsTheirResponses() throws Exception {
        try (KafkaTestClient k = client()) {
            String body = "{\"requests\":[" + chatItem("one") + "," + chatItem("two") + "],\"metadata\":{\"team\":\"t\"}}";
            JsonNode created = MAPPER.readTree(api().header("X-Owner", OWNER).contentType("application/json").body(body)
                    .post("/internal/v1/jobs").then().statusCode(201).extract().asString());
            String id = created.get("id").asText();
            assertEquals("job", created.get("object").asText());
            assertTrue(List.of("queued", "running").contains(created.get("status").asText()), created.toString()); // the runner may be quick
            assertEquals(2, created.at("/progress/total").asInt());
            assertEquals("t", created.at("/metadata/team").asText());

            CompletionRequested one = awaitRequest(k, "one");
            CompletionRequested two = awaitRequest(k, "two");
            assertEquals(Priority.BATCH, one.priority());
            assertEquals("jobs", one.gatewayId());
            assertEquals(id + "-0-1", one.requestId());
            assertEquals(id + "-1-1", two.requestId());
            generate(k, two, "B", "ye", "");
            generate(k, one, "Hi", " there", "");

            JsonNode done = awaitStatus(id, "completed");
            assertEquals(2, done.at("/progress/done").asInt());
            assertEquals("Hi there", done.at("/results/0/response/choices/0/message/content").asText());
            assertEquals("one", done.at("/results/0/custom_id").asText());
            assertEquals("chatcmpl-" + id + "-0", done.at("/results/0/response/id").asText());
            assertEquals(2, done.at("/results/0/response/usage/completion_tokens").asInt());
            assertEquals("Bye", done.at("/results/1/response/choices/0/message/content").asText());

            JobItemCompleted r0 = awaitResult(k, JobItemCompleted.class, id, 0);
            assertEquals("one", r0.customId());
            assertEquals("Hi there", r0.response().at("/choices/0/message/content").asText());
            JobFinished fin = awaitResult(k, JobFinished.class, id, -1);
            assertEquals(new JobFinished(id, "completed", 2, 2, 0, null), fin);

            api().header("X-Owner", OTHER).get("/internal/v1/jobs/" + id).then().statusCode(404).body("error.code", equalTo("job_not_found"));
            api().header("X-Owner", OTHER).delete("/internal/v1/jobs/" + id).then().statusCode(404);
        }
    }

    @Test
    void withoutKeysTheOwnerIsEmptyAndAnEmptyHeaderMayArriveAsNone() throws Exception {
        String id = MAPPER.readTree(api().contentType("application/json").body(chatItem("keyless"))
                .post("/internal/v1/jobs").then().statusCode(201).extract().asString()).get("id").asText();
        api().get("/internal/v1/jobs/" + id).then().statusCode(200).body("id", equalTo(id));
        api().header("X-Owner", "").get("/internal/v1/jobs/" + id).then().statusCode(200);
        api().header("X-Owner", OWNER).get("/internal/v1/jobs/" + id).then().statusCode(404);
        api().delete("/internal/v1/jobs/" + id).then().statusCode(200).body("status", equalTo("cancelled"));
    }

    @Test
    void anOwnersJobsAreListedNewestFirstInPages() throws Exception {
        String owner = "e".repeat(64);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(MAPPER.readTree(api().header("X-Owner", owner).contentType("application/json").body(chatItem("list" + i))
                    .post("/internal/v1/jobs").then().statusCode(201).extract().asString()).get("id").asText());
            api().header("X-Owner", owner).delete("/internal/v1/jobs/" + ids.getLast()).then().statusCode(200);
        }
        JsonNode first = MAPPER.readTree(api().header("X-Owner", owner).get("/internal/v1/jobs?limit=2").then().statusCode(200)
                .extract().asString());
        assertEquals("list", first.get("object").asText());
        assertEquals(List.of(ids.get(2), ids.get(1)), List.of(first.at("/data/0/id").asText(), first.at("/data/1/id").asText()));
        assertTrue(first.get("has_more").asBoolean());
        assertFalse(first.at("/data/0").has("results"), "a list leaves the results out");
        assertEquals("cancelled", first.at("/data/0/status").asText());
        JsonNode second = MAPPER.readTree(api().header("X-Owner", owner).get("/internal/v1/jobs?limit=2&after=" + ids.get(1))
                .then().statusCode(200).extract().asString());
        assertEquals(1, second.get("data").size());
        assertEquals(ids.get(0), second.at("/data/0/id").asText());
        assertFalse(second.get("has_more").asBoolean());
        api().header("X-Owner", OTHER).get("/internal/v1/jobs").then().statusCode(200).body("data.size()", equalTo(0));
        api().header("X-Owner", owner).get("/internal/v1/jobs?limit=0").then().statusCode(400).body("error.param", equalTo("limit"));
    }

    @Test
    void aBadItemIsA400NamingIt() {
        api().header("X-Owner", OWNER).contentType("application/json")
                .body("{\"requests\":[" + chatItem("ok") + ",{\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"m\",\"messages\":\"x\"}}]}")
                .post("/internal/v1/jobs").then().statusCode(400)
                .body("error.param", equalTo("requests[1].body.messages"));
    }

    @Test
    void aKafkaNativeJobIsReadFromJobRequestsAndAnsweredOnJobResults() throws Exception {
        try (KafkaTestClient k = client()) {
            JsonNode body = MAPPER.readTree("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"kafka\"}],\"max_tokens\":3}");
            var job = new JobSubmitted("kafka-job-1", null, List.of(new JobItem("k1", JobItem.CHAT_URL, body)), null);
            k.send(Topics.JOB_REQUESTS, job.jobId(), Json.write(job));
            k.send(Topics.JOB_REQUESTS, job.jobId(), Json.write(job)); // a repeat changes nothing
            CompletionRequested r = awaitRequest(k, "kafka");
            assertEquals("kafka-job-1-0-1", r.requestId());
            generate(k, r, "Kaf", "ka", "");
            JobItemCompleted item = awaitResult(k, JobItemCompleted.class, "kafka-job-1", 0);
            assertEquals(JobItemCompleted.COMPLETED, item.status());
            assertEquals("k1", item.customId());
            assertEquals("Kafka", item.response().at("/choices/0/message/content").asText());
            assertEquals(new JobFinished("kafka-job-1", "completed", 1, 1, 0, null), awaitResult(k, JobFinished.class, "kafka-job-1", -1));
            long requests = countRequests(k, "kafka");
            assertEquals(1, requests, "the repeated submission ran nothing again");
        }
    }

    private static long countRequests(KafkaTestClient k, String content) {
        List<String> ids = new ArrayList<>();
        try {
            k.await(rec -> {
                if (rec.topic().equals(Topics.COMPLETION_REQUESTS)) {
                    CompletionRequested c = Json.read(rec.value(), CompletionRequested.class);
                    if (content.equals(c.messages().getFirst().content()) && !ids.contains(c.requestId())) ids.add(c.requestId());
                }
                return false;
            }, Duration.ofSeconds(2));
        } catch (AssertionError expected) {
            // waited the whole time: every record seen so far was counted
        }
        return ids.size();
    }

    @Test
    void cancellingAJobStopsItsRunningItemsAndEndsIt() throws Exception {
        try (KafkaTestClient k = client()) {
            JsonNode created = MAPPER.readTree(api().header("X-Owner", OWNER).contentType("application/json")
                    .body("{\"requests\":[" + chatItem("c1") + "," + chatItem("c2") + "]}")
                    .post("/internal/v1/jobs").then().statusCode(201).extract().asString());
            String id = created.get("id").asText();
            CompletionRequested c1 = awaitRequest(k, "c1");
            generate(k, c1, "done", "");
            awaitResult(k, JobItemCompleted.class, id, 0);
            CompletionRequested c2 = awaitRequest(k, "c2");
            JsonNode cancelled = MAPPER.readTree(api().header("X-Owner", OWNER).delete("/internal/v1/jobs/" + id)
                    .then().statusCode(200).extract().asString());
            assertEquals("cancelled", cancelled.get("status").asText());
            assertEquals("completed", cancelled.at("/results/0/status").asText(), "finished results stay");
            assertEquals("cancelled", cancelled.at("/results/1/status").asText());
            ConsumerRecord<String, byte[]> cancel = k.await(rec -> rec.topic().equals(Topics.INFERENCE_COMMANDS)
                    && Json.read(rec.value(), InferenceCommand.class) instanceof GenerationCancelled g && g.requestId().equals(c2.requestId()), WAIT);
            assertEquals(c2.requestId(), cancel.key(), "same key as the request: it reaches the replica running it");
            assertEquals(new JobFinished(id, "cancelled", 2, 1, 0, null), awaitResult(k, JobFinished.class, id, -1));

            // Kafka-native cancel of an unknown job: nothing breaks
            k.send(Topics.JOB_REQUESTS, "nope", Json.write(new JobCancelled("nope", "test")));
        }
    }
}
