package dev.jllm.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jllm.contracts.JobItem;
import dev.jllm.contracts.Priority;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The job body: one request or a list, each item checked like a direct request, errors naming the item. */
class JobRequestParserTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String CHAT = "{\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}";
    private static final String TEXT = "{\"custom_id\":\"t\",\"url\":\"/v1/completions\",\"body\":{\"model\":\"m1\",\"prompt\":\"Once\",\"max_tokens\":5}}";

    private final JobRequestParser parser = new JobRequestParser(MAPPER, List.of("m1"), 3);

    private JobRequestParser.Parsed parse(String json) {
        return parser.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    private ApiError error(String json) {
        return assertThrows(ApiError.class, () -> parse(json));
    }

    @Test
    void oneRequestOrAListWithMetadata() {
        var one = parse(CHAT);
        assertEquals(1, one.items().size());
        assertEquals(JobItem.CHAT_URL, one.items().getFirst().url());
        assertNull(one.metadata());

        var list = parse("{\"requests\":[" + CHAT + "," + TEXT + "],\"metadata\":{\"k\":\"v\"}}");
        assertEquals(2, list.items().size());
        assertEquals("t", list.items().get(1).customId());
        assertEquals("v", list.metadata().get("k").asText());
    }

    @Test
    void anItemBecomesABatchRequestKeyedByItsOwnId() {
        JobItem item = parse(TEXT).items().getFirst();
        ParsedRequest p = parser.toRequest(item, "jobs", "job_1-0-1", 42, "");
        assertFalse(p.chat());
        assertEquals("job_1-0-1", p.request().requestId());
        assertEquals("job_1-0-1", p.request().conversationKey());
        assertEquals("jobs", p.request().gatewayId());
        assertNull(p.request().sessionId());
        assertEquals(Priority.BATCH, p.request().priority());
        assertEquals("Once", p.request().prompt());
        assertEquals(5, p.request().params().maxTokens());
        assertEquals(42, p.request().createdAtMillis());
    }

    @Test
    void errorsNameTheItemAndTheParameter() {
        ApiError e = error("{\"requests\":[" + CHAT + ",{\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"m1\",\"messages\":[],\"temperature\":1}}]}");
        assertEquals(400, e.status);
        assertEquals("requests[1].body.messages", e.param);
        assertTrue(e.getMessage().startsWith("requests[1].body: "), e.getMessage());

        ApiError model = error("{\"requests\":[{\"url\":\"/v1/completions\",\"body\":{\"model\":\"nope\",\"prompt\":\"x\"}}]}");
        assertEquals(404, model.status);
        assertEquals("requests[0].body.model", model.param);

        assertEquals("requests[0].url", error("{\"requests\":[{\"url\":\"/v1/embeddings\",\"body\":{}}]}").param);
        assertEquals("url", error("{\"body\":{\"model\":\"m1\",\"prompt\":\"x\"}}").param);
        assertEquals("requests[0].body.stream",
                error("{\"requests\":[{\"url\":\"/v1/completions\",\"body\":{\"model\":\"m1\",\"prompt\":\"x\",\"stream\":true}}]}").param);
        assertEquals("requests[0].body.session_id",
                error("{\"requests\":[{\"url\":\"/v1/completions\",\"body\":{\"model\":\"m1\",\"prompt\":\"x\",\"session_id\":\"s\"}}]}").param);
        assertEquals("requests[0].custom_id", error("{\"requests\":[{\"custom_id\":5,\"url\":\"/v1/completions\",\"body\":{}}]}").param);
        assertEquals("requests[0].custom_id", error("{\"requests\":[{\"custom_id\":\"a\\u0000\",\"url\":\"/v1/completions\",\"body\":{}}]}").param,
                "PostgreSQL cannot store NUL: a 400 now, not a 500 when the job is stored");
        assertEquals("metadata", error("{\"requests\":[" + CHAT + "],\"metadata\":[1]}").param);
    }

    @Test
    void jobIdsAreOnePathSegment() {
        for (String ok : List.of("nightly-2026-11-22", "a.b", "...", "job_3f0c", "x:y", "j".repeat(64))) {
            assertTrue(JobRequestParser.JOB_ID.matcher(ok).matches(), ok);
        }
        for (String bad : List.of(".", "..", "", "a/b", "a b", "j".repeat(65), "a%2Fb")) {
            assertFalse(JobRequestParser.JOB_ID.matcher(bad).matches(), bad);
        }
    }

    @Test
    void countsAreBounded() {
        assertEquals("requests", error("{\"requests\":[]}").param);
        assertTrue(error("{\"requests\":[" + CHAT + "," + CHAT + "," + CHAT + "," + CHAT + "]}").getMessage().contains("at most 3"));
        assertEquals("requests", error("{\"model\":\"m1\"}").param);
        assertNull(error("[1]").param);
    }

    @Test
    void withoutAModelListAnyModelIsAccepted() {
        var any = new JobRequestParser(MAPPER, null, 10);
        var p = any.parse("{\"url\":\"/v1/completions\",\"body\":{\"model\":\"whatever\",\"prompt\":\"x\"}}".getBytes(StandardCharsets.UTF_8));
        assertEquals("whatever", any.toRequest(p.items().getFirst(), "jobs", "r", 0, "").request().model());
    }
}
