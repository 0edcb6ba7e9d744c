package dev.jllm.contracts;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/** The job records as a Kafka-native client writes and reads them by hand (the README's examples). */
class JobContractsTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void readsAHandWrittenJobSubmitted() {
        String json = """
                {"type":"JobSubmitted","jobId":"nightly-42","items":[
                  {"customId":"q1","url":"/v1/chat/completions",
                   "body":{"model":"stories260K","messages":[{"role":"user","content":"Hi"}],"max_tokens":8,"temperature":0}},
                  {"url":"/v1/completions","body":{"model":"stories260K","prompt":"Once upon a time"}}],
                 "metadata":{"team":"search"}}""";
        JobSubmitted j = assertInstanceOf(JobSubmitted.class, Json.read(utf8(json), JobCommand.class));
        assertEquals("nightly-42", j.jobId());
        assertNull(j.owner());
        assertEquals(2, j.items().size());
        assertEquals("q1", j.items().get(0).customId());
        assertEquals(JobItem.CHAT_URL, j.items().get(0).url());
        assertEquals(8, j.items().get(0).body().get("max_tokens").asInt());
        assertNull(j.items().get(1).customId());
        assertEquals("Once upon a time", j.items().get(1).body().get("prompt").asText());
        assertEquals("search", j.metadata().get("team").asText());
    }

    @Test
    void readsAHandWrittenCancel() {
        JobCommand c = Json.read(utf8("{\"type\":\"JobCancelled\",\"jobId\":\"nightly-42\"}"), JobCommand.class);
        assertEquals(new JobCancelled("nightly-42", null), c);
    }

    @Test
    void resultsCarryTheirTypeAndRoundTrip() {
        JsonNode response = Json.mapper().createObjectNode().put("object", "chat.completion");
        JobEvent item = new JobItemCompleted("j1", 3, "q4", JobItemCompleted.COMPLETED, response, null);
        String json = new String(Json.write(item), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"type\":\"JobItemCompleted\""), json);
        assertFalse(json.contains("\"error\""), "nulls are left out: " + json);
        assertEquals(item, Json.read(utf8(json), JobEvent.class));

        JobEvent fin = new JobFinished("j1", "completed", 20, 19, 1, null);
        String f = new String(Json.write(fin), StandardCharsets.UTF_8);
        assertTrue(f.contains("\"type\":\"JobFinished\""), f);
        assertEquals(fin, Json.read(utf8(f), JobEvent.class));
    }
}
