package dev.jllm.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Sessions end to end on a stack of their own with API keys ({@code JLLM_GATEWAY_API_KEYS=k1,k2}): a session
 * belongs to the key that created it; three-turn chats, sending the whole history or only the new messages,
 * answer exactly like stateless requests with the whole history while reusing the cache; a corrupt parked
 * snapshot is rebuilt from the conversation with identical output.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SessionsIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String MODEL = "stories260K";
    static final int MAX_TOKENS = 16;
    static final List<String> USER_TURNS = List.of("Tell me a story about a cat.", "What did the cat eat?", "And then?");

    static LocalStack stack;

    @BeforeAll
    static void up() throws Exception {
        stack = LocalStack.up(Map.of("JLLM_GATEWAY_API_KEYS", "k1,k2"));
    }

    @AfterAll
    static void down() throws Exception {
        if (stack != null) stack.close();
    }

    static Map<String, String> msg(String role, String content) {
        return Map.of("role", role, "content", content);
    }

    /** A greedy chat request; {@code session} may be null (stateless). */
    static JsonNode chat(String key, String session, List<Map<String, String>> messages) throws Exception {
        Map<String, Object> body = new HashMap<>(Map.of("model", MODEL, "messages", messages, "max_tokens", MAX_TOKENS, "temperature", 0));
        if (session != null) body.put("session_id", session);
        HttpResponse<String> r = stack.send("POST", "/v1/chat/completions", JSON.writeValueAsString(body), "Authorization", "Bearer " + key);
        assertEquals(200, r.statusCode(), r.body());
        if (session != null) assertEquals(session, r.headers().firstValue("X-Session-Id").orElse(null), "the client's own id");
        return JSON.readTree(r.body());
    }

    static String text(JsonNode answer) {
        return answer.at("/choices/0/message/content").asText();
    }

    static int cached(JsonNode answer) {
        return answer.at("/usage/prompt_tokens_details/cached_tokens").asInt();
    }

    /**
     * Three turns of one session; each turn sends the whole history or only its new user message, and must answer
     * exactly as a stateless request with the whole history; turns 2 and 3 reuse the session's cache.
     */
    static void threeTurns(String session, boolean wholeHistory) throws Exception {
        List<Map<String, String>> history = new ArrayList<>();
        int previousPrompt = 0;
        for (int turn = 0; turn < USER_TURNS.size(); turn++) {
            Map<String, String> user = msg("user", USER_TURNS.get(turn));
            history.add(user);
            JsonNode stateless = chat("k1", null, history);
            JsonNode answer = chat("k1", session, wholeHistory ? history : List.of(user));
            assertEquals(text(stateless), text(answer), "turn " + (turn + 1) + (wholeHistory ? " (whole history)" : " (new messages only)"));
            assertEquals(stateless.at("/usage/prompt_tokens").asInt(), answer.at("/usage/prompt_tokens").asInt(),
                    "turn " + (turn + 1) + " rendered the same conversation");
            if (turn == 0) {
                assertEquals(0, cached(answer), "a new session has no cache");
            } else {
                // at least the previous turn's prompt is reused (its reply too, where it re-tokenizes the same)
                int prompt = answer.at("/usage/prompt_tokens").asInt();
                assertTrue(cached(answer) >= previousPrompt - 2 && cached(answer) < prompt,
                        "turn " + (turn + 1) + " reused the cache (previous prompt " + previousPrompt + "): " + answer.get("usage"));
            }
            previousPrompt = answer.at("/usage/prompt_tokens").asInt();
            history.add(msg("assistant", text(answer)));
        }
        HttpResponse<String> s = stack.send("GET", "/v1/sessions/" + session, null, "Authorization", "Bearer k1");
        assertEquals(200, s.statusCode(), s.body());
        JsonNode stored = JSON.readTree(s.body());
        assertEquals(session, stored.get("id").asText());
        assertEquals(JSON.valueToTree(history), stored.get("messages"), "the stored conversation is the whole history");
    }

    @Test
    @Order(1)
    void threeTurnsWithTheWholeHistory() throws Exception {
        threeTurns("full-" + System.nanoTime(), true);
    }

    @Test
    @Order(2)
    void threeTurnsWithOnlyTheNewMessages() throws Exception {
        threeTurns("new-" + System.nanoTime(), false);
    }

    @Test
    @Order(3)
    void aSessionBelongsToTheKeyThatCreatedIt() throws Exception {
        String session = "mine-" + System.nanoTime();
        List<Map<String, String>> first = List.of(msg("user", USER_TURNS.get(0)));
        JsonNode t1 = chat("k1", session, first);
        List<Map<String, String>> second = List.of(first.get(0), msg("assistant", text(t1)), msg("user", USER_TURNS.get(1)));

        // key 2 cannot see, delete, or reach the cache of key 1's session of the same name
        HttpResponse<String> get2 = stack.send("GET", "/v1/sessions/" + session, null, "Authorization", "Bearer k2");
        assertEquals(404, get2.statusCode(), get2.body());
        assertEquals("session_not_found", JSON.readTree(get2.body()).at("/error/code").asText());
        assertEquals(404, stack.send("DELETE", "/v1/sessions/" + session, null, "Authorization", "Bearer k2").statusCode());
        JsonNode other = chat("k2", session, second);
        assertEquals(0, cached(other), "key 2's turn did not reuse key 1's cache: " + other.get("usage"));
        assertEquals(401, stack.send("GET", "/v1/sessions/" + session, null).statusCode(), "no key");

        // key 1's session is intact: its own next turn reuses its cache
        JsonNode t2 = chat("k1", session, second);
        assertTrue(cached(t2) > 0, "key 1's cache is still its own: " + t2.get("usage"));
        assertEquals(text(other), text(t2), "same conversation, same answer");
        HttpResponse<String> get1 = stack.send("GET", "/v1/sessions/" + session, null, "Authorization", "Bearer k1");
        assertEquals(200, get1.statusCode(), get1.body());
        assertEquals(4, JSON.readTree(get1.body()).get("messages").size());

        HttpResponse<String> del = stack.send("DELETE", "/v1/sessions/" + session, null, "Authorization", "Bearer k1");
        assertEquals(200, del.statusCode(), del.body());
        assertTrue(JSON.readTree(del.body()).get("deleted").asBoolean());
        assertEquals(404, stack.send("GET", "/v1/sessions/" + session, null, "Authorization", "Bearer k1").statusCode());
    }

    @Test
    @Order(4)
    void theInternalApiNeedsTheStacksSecret() throws Exception {
        var r = stack.http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + (stack.base + 3)
                + "/internal/v1/sessions/x")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, r.statusCode(), r.body());
    }

    @Test
    @Order(5)
    void aCorruptParkedSnapshotIsRebuiltWithIdenticalOutput() throws Exception {
        String session = "corrupt-" + System.nanoTime();
        Map<String, String> u1 = msg("user", USER_TURNS.get(0)), u2 = msg("user", USER_TURNS.get(1));
        JsonNode t1 = chat("k1", session, List.of(u1));

        // the restart parks the session's cache in session-service
        LocalStack.Run r = stack.run("restart inference-service", Duration.ofMinutes(4));
        assertEquals(0, r.exit(), r.output() + stack.logs());
        String internalId = sha256("k1").substring(0, 16) + ":" + session;
        Map<String, String> infra = stack.infraEnv();
        try (Connection c = DriverManager.getConnection(infra.get("JLLM_JDBC_URL"), infra.get("JLLM_JDBC_USER"), infra.get("JLLM_JDBC_PASSWORD"));
             PreparedStatement u = c.prepareStatement("UPDATE kv_snapshot_chunks SET data = set_byte(data, 40, (get_byte(data, 40) + 1) % 256) "
                     + "WHERE session_id = ? AND chunk_index = 0")) {
            u.setString(1, internalId);
            assertEquals(1, u.executeUpdate(), "the restart parked the session's snapshot");
        }

        JsonNode t2 = chat("k1", session, List.of(u2)); // only the new message: the conversation is in session-service
        JsonNode stateless = chat("k1", null, List.of(u1, msg("assistant", text(t1)), u2));
        assertEquals(text(stateless), text(t2), "rebuilt from the conversation: identical output");
        assertEquals(0, cached(t2), "the corrupt snapshot was not used: " + t2.get("usage"));
    }

    static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }
}
