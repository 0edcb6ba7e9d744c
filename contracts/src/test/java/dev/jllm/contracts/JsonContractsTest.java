package dev.jllm.contracts;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class JsonContractsTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void readsAHandWrittenTokenEventThroughTheSealedInterface() {
        String json = """
                {"type":"TokenGenerated","requestId":"r1","gatewayId":"g1","index":3,"tokenId":42,
                 "text":" time","finishReason":"length","usage":{"promptTokens":5,"completionTokens":4,"cachedTokens":0},
                 "someFieldFromANewerProducer":true}""";
        GenerationEvent e = Json.read(utf8(json), GenerationEvent.class);
        TokenGenerated t = assertInstanceOf(TokenGenerated.class, e);
        assertEquals("r1", t.requestId());
        assertEquals(3, t.index());
        assertEquals(42, t.tokenId());
        assertEquals(" time", t.text());
        assertEquals(FinishReason.LENGTH, t.finishReason());
        assertTrue(t.isLast());
        assertEquals(new Usage(5, 4, 0), t.usage());
    }

    @Test
    void writesTheTypeDiscriminatorAndWireNames() {
        String json = new String(Json.write(new GenerationCancelled("r9", "s1", "client disconnected")), StandardCharsets.UTF_8);
        // written as the interface type would be read: the discriminator must be present
        assertTrue(json.contains("\"type\":\"GenerationCancelled\""), json);
        InferenceCommand back = Json.read(utf8(json), InferenceCommand.class);
        assertEquals(new GenerationCancelled("r9", "s1", "client disconnected"), back);
        String fin = new String(Json.write(new TokenGenerated("r", "g", 0, -1, "", null, FinishReason.STOP, null)), StandardCharsets.UTF_8);
        assertTrue(fin.contains("\"finishReason\":\"stop\""), fin);
        assertFalse(fin.contains("logprob"), "nulls are left out: " + fin);
    }

    @Test
    void promptIdsAndParamsSurviveARoundTrip() {
        var p = new PromptTokenized("r2", "g2", "s2", "s2", "stories", new int[] {1, 403, 407, 261, 378},
                SamplingParams.greedy(16), List.of("\n\n"), Priority.INTERACTIVE, 123L);
        PromptTokenized back = (PromptTokenized) Json.read(Json.write((InferenceCommand) p), InferenceCommand.class);
        assertArrayEquals(new int[] {1, 403, 407, 261, 378}, back.promptIds());
        assertEquals(0.0, back.params().temperature());
        assertEquals(16, back.params().maxTokens());
        assertEquals(List.of("\n\n"), back.stop());
    }

    @Test
    void badJsonIsAClearError() {
        var e = assertThrows(IllegalArgumentException.class, () -> Json.read(utf8("{\"type\":\"Nope\"}"), GenerationEvent.class));
        assertTrue(e.getMessage().startsWith("not a valid GenerationEvent"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Json.read(utf8("{not json"), InferenceCommand.class));
    }

    @Test
    void topicsAreKebabCaseAndUnique() {
        assertEquals(Topics.ALL.size(), Topics.ALL.stream().distinct().count());
        for (String t : Topics.ALL) {
            assertTrue(t.matches("[a-z]+(-[a-z]+)*"), t);
        }
    }

    @Test
    void jobEventsHaveATopicOfTheirOwn() {
        assertEquals(Topics.JOB_GENERATION_EVENTS, Topics.generationEventsTopic(Topics.JOB_RUNNER_ID));
        assertEquals(Topics.GENERATION_EVENTS, Topics.generationEventsTopic("gateway-7f3a"));
        assertEquals(Topics.GENERATION_EVENTS, Topics.generationEventsTopic(null));
        assertTrue(Topics.ALL.contains(Topics.JOB_GENERATION_EVENTS), "pre-created with the others");
    }
}
