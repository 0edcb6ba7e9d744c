package dev.jllm.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jllm.contracts.ChatMessage;
import dev.jllm.contracts.CompletionRequested;
import dev.jllm.contracts.Priority;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** RequestParser alone (no Quarkus): each parameter's validation, with the OpenAI status, param and code. */
class RequestParserTest {
    private static final String GW = "gw-unit";
    private static final long NOW = 1_700_000_000_123L;
    private static final String CHAT_OK = "\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
    private static final String TEXT_OK = "\"model\":\"m1\",\"prompt\":\"Once upon\"";

    private final RequestParser parser = new RequestParser(new ObjectMapper(), List.of("m1", "m2"));

    private ParsedRequest chat(String body) {
        return parser.parse(body.getBytes(StandardCharsets.UTF_8), true, GW, null, NOW);
    }

    private ParsedRequest text(String body) {
        return parser.parse(body.getBytes(StandardCharsets.UTF_8), false, GW, null, NOW);
    }

    /** A chat body with the valid model and messages plus {@code extra} fields (", ..." appended). */
    private ApiError chatError(String extra) {
        return assertThrows(ApiError.class, () -> chat("{" + CHAT_OK + extra + "}"));
    }

    private static void assertInvalid(ApiError e, String param) {
        assertEquals(400, e.status, e.getMessage());
        assertEquals("invalid_request_error", e.type);
        assertEquals(param, e.param, e.getMessage());
    }

    // ---- the well-formed case: what goes to Kafka ----

    @Test
    void aMinimalChatRequestCarriesItsMessagesAndDefaults() {
        ParsedRequest p = chat("{\"model\":\"m2\",\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
                + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"he\"},{\"type\":\"text\",\"text\":\"llo\"}]}]}");
        CompletionRequested r = p.request();
        assertTrue(p.chat());
        assertFalse(p.stream());
        assertFalse(p.includeUsage());
        assertFalse(p.echo());
        assertEquals("m2", r.model());
        assertEquals(GW, r.gatewayId());
        assertEquals(NOW, r.createdAtMillis());
        assertEquals(Priority.INTERACTIVE, r.priority());
        assertEquals(List.of(new ChatMessage("system", "be brief"), new ChatMessage("user", "hello")), r.messages());
        assertNull(r.prompt());
        assertTrue(r.requestId().matches("chatcmpl-[0-9a-f]{32}"), r.requestId());
        assertNull(r.sessionId());
        assertEquals(r.requestId(), r.conversationKey(), "stateless: keyed by the request id");
        assertEquals(List.of(), r.stop());
        var s = r.params();
        assertEquals(1.0, s.temperature());
        assertEquals(1.0, s.topP());
        assertEquals(-1, s.topK());
        assertEquals(0.0, s.minP());
        assertEquals(1.0, s.repetitionPenalty());
        assertNull(s.seed());
        assertEquals(0, s.maxTokens(), "chat without a limit: as many as fit");
        assertFalse(s.logprobs());
        assertEquals(0, s.topLogprobs());
    }

    @Test
    void aLegacyCompletionHasAPromptAndTheOpenAiDefaultOf16Tokens() {
        ParsedRequest p = text("{" + TEXT_OK + ",\"echo\":true,\"logprobs\":3,\"stop\":\"\\n\"}");
        CompletionRequested r = p.request();
        assertFalse(p.chat());
        assertTrue(p.echo());
        assertEquals("Once upon", r.prompt());
        assertNull(r.messages());
        assertTrue(r.requestId().matches("cmpl-[0-9a-f]{32}"), r.requestId());
        assertEquals(16, r.params().maxTokens());
        assertTrue(r.params().logprobs());
        assertEquals(3, r.params().topLogprobs());
        assertEquals(List.of("\n"), r.stop());
        assertEquals("Once upon", text("{\"model\":\"m1\",\"prompt\":[\"Once upon\"]}").request().prompt());
        assertInvalid(assertThrows(ApiError.class, () -> text("{\"model\":\"m1\",\"prompt\":[\"a\",\"b\"]}")), "prompt");
        assertInvalid(assertThrows(ApiError.class, () -> text("{\"model\":\"m1\"}")), "prompt");
        assertInvalid(assertThrows(ApiError.class, () -> text("{" + TEXT_OK + ",\"logprobs\":6}")), "logprobs");
    }

    @Test
    void samplingParametersArePassedThrough() {
        var s = chat("{" + CHAT_OK + ",\"temperature\":0,\"top_p\":0.9,\"top_k\":40,\"min_p\":0.05,\"presence_penalty\":-2,"
                + "\"frequency_penalty\":1.5,\"repetition_penalty\":1.1,\"seed\":12345678901,\"max_tokens\":7,"
                + "\"logprobs\":true,\"top_logprobs\":20,\"stop\":[\"a\",\"\",\"b\"]}").request();
        assertEquals(0.0, s.params().temperature());
        assertEquals(0.9, s.params().topP());
        assertEquals(40, s.params().topK());
        assertEquals(0.05, s.params().minP());
        assertEquals(-2.0, s.params().presencePenalty());
        assertEquals(1.5, s.params().frequencyPenalty());
        assertEquals(1.1, s.params().repetitionPenalty());
        assertEquals(12345678901L, s.params().seed());
        assertEquals(7, s.params().maxTokens());
        assertTrue(s.params().logprobs());
        assertEquals(20, s.params().topLogprobs());
        assertEquals(List.of("a", "b"), s.stop(), "empty stop strings are dropped");
    }

    @Test
    void maxCompletionTokensWinsOverMaxTokens() {
        assertEquals(5, chat("{" + CHAT_OK + ",\"max_tokens\":9,\"max_completion_tokens\":5}").request().params().maxTokens());
        assertEquals(5, chat("{" + CHAT_OK + ",\"max_completion_tokens\":5,\"max_tokens\":9}").request().params().maxTokens());
        assertEquals(9, chat("{" + CHAT_OK + ",\"max_tokens\":9,\"max_completion_tokens\":null}").request().params().maxTokens());
        assertInvalid(chatError(",\"max_completion_tokens\":0"), "max_completion_tokens");
        assertInvalid(chatError(",\"max_tokens\":-1"), "max_tokens");
        assertInvalid(chatError(",\"max_tokens\":1.5"), "max_tokens");
    }

    @Test
    void theSessionIdComesFromTheHeaderOrTheBodyAndBecomesTheKey() {
        byte[] plain = ("{" + CHAT_OK + "}").getBytes(StandardCharsets.UTF_8);
        CompletionRequested h = parser.parse(plain, true, GW, "sess-h", NOW).request();
        assertEquals("sess-h", h.sessionId());
        assertEquals("sess-h", h.conversationKey());

        byte[] withBody = ("{" + CHAT_OK + ",\"session_id\":\"sess-b\"}").getBytes(StandardCharsets.UTF_8);
        CompletionRequested b = parser.parse(withBody, true, GW, null, NOW).request();
        assertEquals("sess-b", b.sessionId());
        assertEquals("sess-b", b.conversationKey());
        assertEquals("sess-b", parser.parse(withBody, true, GW, "sess-h", NOW).request().sessionId(), "the body names it explicitly");

        assertInvalid(chatError(",\"session_id\":\" \""), "session_id");
        assertInvalid(chatError(",\"session_id\":7"), "session_id");
        assertInvalid(chatError(",\"session_id\":\"" + "x".repeat(129) + "\""), "session_id");
        assertInvalid(assertThrows(ApiError.class, () -> parser.parse(plain, true, GW, " ", NOW)), "X-Session-Id");
        assertInvalid(assertThrows(ApiError.class, () -> parser.parse(plain, true, GW, "y".repeat(129), NOW)), "X-Session-Id");
        // a path segment of session-service's API and a PostgreSQL string: no dot segment, no control character
        assertInvalid(chatError(",\"session_id\":\"..\""), "session_id");
        assertInvalid(chatError(",\"session_id\":\".\""), "session_id");
        assertInvalid(chatError(",\"session_id\":\"a\\u0000b\""), "session_id");
        assertInvalid(chatError(",\"session_id\":\"a\\nb\""), "session_id");
        assertInvalid(assertThrows(ApiError.class, () -> parser.parse(plain, true, GW, "..", NOW)), "X-Session-Id");
        assertEquals("a/../b.c:d", parser.parse(plain, true, GW, "a/../b.c:d", NOW).request().sessionId(), "encoded as one segment downstream");
    }

    @Test
    void unknownFieldsAreIgnored() {
        ParsedRequest p = chat("{" + CHAT_OK + ",\"user\":\"u-1\",\"tools\":[],\"parallel_tool_calls\":false,\"metadata\":{\"a\":1},\"x_future\":[1,2]}");
        assertEquals("m1", p.request().model());
        assertEquals(List.of(new ChatMessage("user", "hi")), p.request().messages());
    }

    @Test
    void twoRequestsGetDistinctIds() {
        assertNotEquals(chat("{" + CHAT_OK + "}").request().requestId(), chat("{" + CHAT_OK + "}").request().requestId());
    }

    // ---- errors ----

    @Test
    void badJsonIs400WithoutParam() {
        for (String body : new String[]{"{\"model\":", "not json", ""}) {
            ApiError e = assertThrows(ApiError.class, () -> chat(body), body);
            assertInvalid(e, null);
        }
        assertInvalid(assertThrows(ApiError.class, () -> chat("[1,2]")), null);
        assertInvalid(assertThrows(ApiError.class, () -> chat("\"model\"")), null);
    }

    @Test
    void aMissingModelIs400NamingModel() {
        assertInvalid(assertThrows(ApiError.class, () -> chat("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")), "model");
        assertInvalid(assertThrows(ApiError.class, () -> chat("{\"model\":null,\"messages\":[]}")), "model");
        assertInvalid(assertThrows(ApiError.class, () -> chat("{\"model\":3,\"messages\":[]}")), "model");
    }

    @Test
    void anUnknownModelIs404ModelNotFound() {
        ApiError e = assertThrows(ApiError.class, () -> chat("{\"model\":\"gpt-9\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
        assertEquals(404, e.status);
        assertEquals("model_not_found", e.code);
        assertEquals("model", e.param);
        assertEquals("invalid_request_error", e.type);
        assertTrue(e.getMessage().contains("gpt-9"), e.getMessage());
    }

    @Test
    void onlyOneChoiceIsSupported() {
        assertInvalid(chatError(",\"n\":2"), "n");
        assertInvalid(chatError(",\"n\":0"), "n");
        assertEquals("m1", chat("{" + CHAT_OK + ",\"n\":1}").request().model());
    }

    @Test
    void outOfRangeSamplingValuesNameTheirParam() {
        assertInvalid(chatError(",\"temperature\":3"), "temperature");
        assertInvalid(chatError(",\"temperature\":-0.1"), "temperature");
        assertInvalid(chatError(",\"temperature\":\"hot\""), "temperature");
        assertInvalid(chatError(",\"top_p\":0"), "top_p");
        assertInvalid(chatError(",\"top_p\":1.01"), "top_p");
        assertInvalid(chatError(",\"top_k\":-2"), "top_k");
        assertInvalid(chatError(",\"min_p\":1.5"), "min_p");
        assertInvalid(chatError(",\"presence_penalty\":2.5"), "presence_penalty");
        assertInvalid(chatError(",\"frequency_penalty\":-3"), "frequency_penalty");
        assertInvalid(chatError(",\"repetition_penalty\":0"), "repetition_penalty");
        assertInvalid(chatError(",\"seed\":1.5"), "seed");
        assertInvalid(chatError(",\"stream\":\"yes\""), "stream");
        // the bounds themselves are accepted
        assertEquals(2.0, chat("{" + CHAT_OK + ",\"temperature\":2}").request().params().temperature());
    }

    @Test
    void topLogprobsNeedsLogprobs() {
        assertInvalid(chatError(",\"top_logprobs\":2"), "top_logprobs");
        assertInvalid(chatError(",\"logprobs\":false,\"top_logprobs\":2"), "top_logprobs");
        assertInvalid(chatError(",\"logprobs\":true,\"top_logprobs\":21"), "top_logprobs");
        assertEquals(2, chat("{" + CHAT_OK + ",\"logprobs\":true,\"top_logprobs\":2}").request().params().topLogprobs());
    }

    @Test
    void atMostFourStopSequences() {
        assertInvalid(chatError(",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]"), "stop");
        assertInvalid(chatError(",\"stop\":[\"a\",1]"), "stop");
        assertInvalid(chatError(",\"stop\":5"), "stop");
        assertEquals(4, chat("{" + CHAT_OK + ",\"stop\":[\"a\",\"b\",\"c\",\"d\"]}").request().stop().size());
    }

    @Test
    void onlyTextContentPartsAreAccepted() {
        ApiError e = assertThrows(ApiError.class, () -> chat("{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":"
                + "[{\"type\":\"text\",\"text\":\"what is this?\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"http://x/y.png\"}}]}]}"));
        assertInvalid(e, "messages[0].content[1].type");
        assertTrue(e.getMessage().contains("image_url"), e.getMessage());
        assertInvalid(assertThrows(ApiError.class, () -> chat("{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":"
                + "[{\"type\":\"text\",\"text\":3}]}]}")), "messages[0].content[0].text");
    }

    @Test
    void malformedMessagesNameTheirPath() {
        assertInvalid(assertThrows(ApiError.class, () -> chat("{\"model\":\"m1\"}")), "messages");
        assertInvalid(assertThrows(ApiError.class, () -> chat("{\"model\":\"m1\",\"messages\":[]}")), "messages");
        assertInvalid(assertThrows(ApiError.class, () -> chat("{\"model\":\"m1\",\"messages\":{}}")), "messages");
        assertInvalid(assertThrows(ApiError.class, () -> chat("{\"model\":\"m1\",\"messages\":[\"hi\"]}")), "messages[0]");
        assertInvalid(assertThrows(ApiError.class, () -> chat("{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
                + "{\"content\":\"b\"}]}")), "messages[1].role");
        assertInvalid(assertThrows(ApiError.class, () -> chat("{\"model\":\"m1\",\"messages\":[{\"role\":\"wizard\",\"content\":\"a\"}]}")),
                "messages[0].role");
        assertInvalid(assertThrows(ApiError.class, () -> chat("{\"model\":\"m1\",\"messages\":[{\"role\":\"user\"}]}")),
                "messages[0].content");
    }

    @Test
    void streamOptionsNeedStream() {
        assertInvalid(chatError(",\"stream_options\":{\"include_usage\":true}"), "stream_options");
        assertInvalid(chatError(",\"stream\":false,\"stream_options\":{\"include_usage\":true}"), "stream_options");
        assertInvalid(chatError(",\"stream\":true,\"stream_options\":true"), "stream_options");
        ParsedRequest p = chat("{" + CHAT_OK + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        assertTrue(p.stream());
        assertTrue(p.includeUsage());
        assertFalse(chat("{" + CHAT_OK + ",\"stream\":true}").includeUsage());
    }
}
