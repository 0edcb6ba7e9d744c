package dev.jllm.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jllm.contracts.JobEvent;
import dev.jllm.contracts.JobFinished;
import dev.jllm.contracts.JobItem;
import dev.jllm.contracts.JobItemCompleted;
import dev.jllm.contracts.JobSubmitted;
import dev.jllm.contracts.Json;
import dev.jllm.contracts.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Async jobs end to end on a stack of their own (API keys k1, k2; one job item in flight at a time, so a job
 * lasts long enough to restart a service under it): a job of 20 prompts over HTTP survives a restart of
 * inference-service (and one of session-service, whose runner resumes it) and each result equals the direct
 * request's; a Kafka-native client's job goes from
 * job-requests to job-results; DELETE cancels; another key sees nothing.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class JobsIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String MODEL = "stories260K";
    static final int PROMPTS = 20;
    static final int MAX_TOKENS = 200;
    static final Duration JOB_WAIT = Duration.ofMinutes(4);

    static LocalStack stack;

    @BeforeAll
    static void up() throws Exception {
        stack = LocalStack.up(Map.of("JLLM_GATEWAY_API_KEYS", "k1,k2", "JLLM_JOBS_MAX_IN_FLIGHT", "1",
                "JLLM_JOBS_ITEM_TIMEOUT", "20s", "JLLM_JOBS_POLL_INTERVAL", "200ms"));
    }

    @AfterAll
    static void down() throws Exception {
        if (stack != null) stack.close();
    }

    /** Prompt i as a Batch-API line: chat for even i, legacy completion for odd i; greedy. */
    static Map<String, Object> item(int i) {
        String prompt = List.of("Once upon a time", "The cat", "Lily and Tom", "One day, a big dog", "The sun was").get(i % 5) + " " + i;
        Map<String, Object> body = i % 2 == 0
                ? Map.of("model", MODEL, "messages", List.of(Map.of("role", "user", "content", prompt)), "max_tokens", MAX_TOKENS, "temperature", 0)
                : Map.of("model", MODEL, "prompt", prompt, "max_tokens", MAX_TOKENS, "temperature", 0);
        return Map.of("custom_id", "p" + i, "url", i % 2 == 0 ? "/v1/chat/completions" : "/v1/completions", "body", body);
    }

    @SuppressWarnings("unchecked")
    static JsonNode direct(Map<String, Object> item) throws Exception {
        HttpResponse<String> r = stack.send("POST", (String) item.get("url"), JSON.writeValueAsString(item.get("body")),
                "Authorization", "Bearer k1");
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    /** What must be equal between a job's result and the direct answer (ids and timestamps differ). */
    static String essence(JsonNode response) {
        JsonNode c = response.at("/choices/0");
        String text = c.has("message") ? c.at("/message/content").asText() : c.get("text").asText();
        return response.get("object").asText() + "|" + text + "|" + c.get("finish_reason").asText() + "|"
                + response.at("/usage/prompt_tokens").asInt() + "|" + response.at("/usage/completion_tokens").asInt();
    }

    static JsonNode job(String id, String key) throws Exception {
        HttpResponse<String> r = stack.send("GET", "/v1/jobs/" + id, null, "Authorization", "Bearer " + key);
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    static JsonNode awaitEnd(String id) throws Exception {
        long deadline = System.nanoTime() + JOB_WAIT.toNanos();
        while (true) {
            JsonNode j = job(id, "k1");
            String status = j.get("status").asText();
            if (!status.equals("queued") && !status.equals("running")) return j;
            if (System.nanoTime() > deadline) fail("job " + id + " did not end in " + JOB_WAIT + ": " + j.get("progress") + stack.logs());
            Thread.sleep(200);
        }
    }

    @Test
    @Order(1)
    void aJobOfTwentyPromptsSurvivesAnInferenceRestartAndEqualsTheDirectAnswers() throws Exception {
        List<Map<String, Object>> items = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < PROMPTS; i++) {
            items.add(item(i));
            expected.add(essence(direct(items.get(i))));
        }
        HttpResponse<String> posted = stack.send("POST", "/v1/jobs", JSON.writeValueAsString(Map.of("requests", items,
                "metadata", Map.of("suite", "JobsIT"))), "Authorization", "Bearer k1");
        assertEquals(201, posted.statusCode(), posted.body());
        String id = JSON.readTree(posted.body()).get("id").asText();
        assertEquals(404, stack.send("GET", "/v1/jobs/" + id, null, "Authorization", "Bearer k2").statusCode(), "another key's job");

        // restart inference-service while the job runs: after its first results, well before its last
        long deadline = System.nanoTime() + JOB_WAIT.toNanos();
        JsonNode before = job(id, "k1");
        while (before.at("/progress/done").asInt() < 2) {
            assertTrue(System.nanoTime() < deadline, "no progress: " + before);
            Thread.sleep(20);
            before = job(id, "k1");
        }
        int doneAtRestart = before.at("/progress/done").asInt();
        assertTrue(doneAtRestart < PROMPTS, "the job ended before the restart: nothing was tested (" + doneAtRestart + ")");
        LocalStack.Run r = stack.run("restart inference-service", Duration.ofMinutes(4));
        assertEquals(0, r.exit(), r.output() + stack.logs());
        long restartedAt = System.currentTimeMillis() / 1000;

        JsonNode done = awaitEnd(id);
        assertEquals("completed", done.get("status").asText(), done.toString());
        assertEquals(PROMPTS, done.at("/progress/completed").asInt(), done.get("progress").toString());
        assertEquals(0, done.at("/progress/failed").asInt());
        assertEquals("JobsIT", done.at("/metadata/suite").asText());
        assertTrue(done.get("finished_at").asLong() >= restartedAt - 1,
                "the job must have outlived the restart (finished " + done.get("finished_at") + ", restarted " + restartedAt + ")");
        for (int i = 0; i < PROMPTS; i++) {
            JsonNode result = done.get("results").get(i);
            assertEquals(i, result.get("index").asInt());
            assertEquals("p" + i, result.get("custom_id").asText());
            assertEquals("completed", result.get("status").asText(), result.toString());
            assertEquals(expected.get(i), essence(result.get("response")), "prompt " + i);
        }
        System.out.printf("job of %d prompts: %d done when inference-service was restarted; all %d equal to the direct answers%n",
                PROMPTS, doneAtRestart, PROMPTS);
    }

    @Test
    @Order(2)
    void aJobSurvivesARestartOfSessionServiceItself() throws Exception {
        List<Map<String, Object>> items = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            items.add(item(i + 3));
            expected.add(essence(direct(items.get(i))));
        }
        HttpResponse<String> posted = stack.send("POST", "/v1/jobs", JSON.writeValueAsString(Map.of("requests", items)),
                "Authorization", "Bearer k1");
        assertEquals(201, posted.statusCode(), posted.body());
        String id = JSON.readTree(posted.body()).get("id").asText();
        JsonNode before = job(id, "k1");
        long deadline = System.nanoTime() + JOB_WAIT.toNanos();
        while (before.at("/progress/done").asInt() < 1) {
            assertTrue(System.nanoTime() < deadline, "no progress: " + before);
            Thread.sleep(20);
            before = job(id, "k1");
        }
        assertTrue(before.at("/progress/done").asInt() < items.size(), "the job ended before the restart");
        // the runner dies with its items in flight; the restarted one resumes them from PostgreSQL
        LocalStack.Run r = stack.run("restart session-service", Duration.ofMinutes(4));
        assertEquals(0, r.exit(), r.output() + stack.logs());
        JsonNode done = awaitEnd(id);
        assertEquals("completed", done.get("status").asText(), done.toString());
        for (int i = 0; i < items.size(); i++) {
            assertEquals(expected.get(i), essence(done.get("results").get(i).get("response")), "prompt " + i);
        }
    }

    @Test
    @Order(3)
    void aKafkaNativeJobGoesFromJobRequestsToJobResults() throws Exception {
        String bootstrap = stack.infraEnv().get("KAFKA_BOOTSTRAP_SERVERS");
        String id = "e2e-kafka-" + UUID.randomUUID().toString().substring(0, 8);
        List<Map<String, Object>> items = List.of(item(0), item(1));
        List<JobItem> jobItems = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (Map<String, Object> it : items) {
            jobItems.add(new JobItem((String) it.get("custom_id"), (String) it.get("url"), JSON.valueToTree(it.get("body"))));
            expected.add(essence(direct(it)));
        }
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new StringDeserializer(), new ByteArrayDeserializer());
             var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                     new StringSerializer(), new ByteArraySerializer())) {
            List<TopicPartition> parts = consumer.partitionsFor(Topics.JOB_RESULTS, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(Topics.JOB_RESULTS, p.partition())).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            producer.send(new ProducerRecord<>(Topics.JOB_REQUESTS, id, Json.write(new JobSubmitted(id, null, jobItems, null))))
                    .get(30, TimeUnit.SECONDS);

            Map<Integer, JobItemCompleted> results = new HashMap<>();
            JobFinished finished = null;
            long deadline = System.nanoTime() + JOB_WAIT.toNanos();
            while (finished == null) {
                assertTrue(System.nanoTime() < deadline, "no JobFinished for " + id + "; items " + results.keySet() + stack.logs());
                for (ConsumerRecord<String, byte[]> rec : consumer.poll(Duration.ofMillis(200))) {
                    if (!id.equals(rec.key())) continue;
                    switch (Json.read(rec.value(), JobEvent.class)) {
                        case JobItemCompleted c -> results.put(c.index(), c);
                        case JobFinished f -> finished = f;
                    }
                }
            }
            assertEquals(new JobFinished(id, "completed", 2, 2, 0, null), finished);
            for (int i = 0; i < items.size(); i++) {
                JobItemCompleted c = results.get(i);
                assertNotNull(c, "item " + i + " came before the JobFinished");
                assertEquals("p" + i, c.customId());
                assertEquals(expected.get(i), essence(c.response()), "item " + i);
            }
        }
    }

    @Test
    @Order(4)
    void deleteCancelsARunningJob() throws Exception {
        List<Map<String, Object>> items = new ArrayList<>();
        for (int i = 0; i < PROMPTS; i++) items.add(item(i));
        HttpResponse<String> posted = stack.send("POST", "/v1/jobs", JSON.writeValueAsString(Map.of("requests", items)),
                "Authorization", "Bearer k1");
        assertEquals(201, posted.statusCode(), posted.body());
        String id = JSON.readTree(posted.body()).get("id").asText();
        assertEquals(404, stack.send("DELETE", "/v1/jobs/" + id, null, "Authorization", "Bearer k2").statusCode(), "another key's job");
        HttpResponse<String> cancelled = stack.send("DELETE", "/v1/jobs/" + id, null, "Authorization", "Bearer k1");
        assertEquals(200, cancelled.statusCode(), cancelled.body());
        JsonNode c = JSON.readTree(cancelled.body());
        assertEquals("cancelled", c.get("status").asText());
        assertTrue(c.at("/progress/done").asInt() < PROMPTS, c.get("progress").toString());
        Thread.sleep(1_000);
        JsonNode after = job(id, "k1");
        assertEquals("cancelled", after.get("status").asText());
        assertEquals(c.at("/progress/done").asInt(), after.at("/progress/done").asInt(), "nothing finished after the cancel");
        assertEquals("cancelled", after.at("/results/" + (PROMPTS - 1) + "/status").asText());
        // the pipeline is free again: a direct request is answered at once
        assertEquals(200, stack.send("POST", "/v1/completions", JSON.writeValueAsString(Map.of("model", MODEL, "prompt", "Hi",
                "max_tokens", 4)), "Authorization", "Bearer k1").statusCode());
    }
}
