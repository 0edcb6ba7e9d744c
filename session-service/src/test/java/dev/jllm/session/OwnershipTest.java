package dev.jllm.session;

import dev.jllm.testsupport.KafkaResource;
import dev.jllm.testsupport.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.jllm.session.InternalApi.api;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

/** The internal API's shared secret, sessions' owners, and the conversations that follow-up turns continue. */
@QuarkusTest
@WithTestResource(value = PostgresResource.class, parallel = true)
@WithTestResource(value = KafkaResource.class, parallel = true)
@WithTestResource(value = InternalApi.class, parallel = true)
class OwnershipTest {
    static final String OWNER_A = "a".repeat(64), OWNER_B = "b".repeat(64);

    static Map<String, Object> msg(String role, String content) {
        return Map.of("role", role, "content", content);
    }

    static io.restassured.response.Response turn(String id, String owner, List<Map<String, Object>> messages, String reply) {
        Map<String, Object> body = new java.util.HashMap<>(Map.of("owner", owner, "model", "m", "token_count", 42));
        if (messages != null) body.put("messages", messages);
        if (reply != null) body.put("reply", reply);
        return api().contentType("application/json").body(body).put("/internal/v1/sessions/" + id + "/turn");
    }

    @Test
    void theInternalApiNeedsTheSharedSecret() {
        RestAssured.given().get("/internal/v1/sessions/x").then().statusCode(401).body("error.code", equalTo("invalid_internal_token"));
        RestAssured.given().header("X-Internal-Token", "wrong").get("/internal/v1/sessions/x/snapshot").then().statusCode(401);
        RestAssured.given().header("X-Internal-Token", "wrong").contentType("application/octet-stream").header("X-Model", "m")
                .header("X-Token-Count", 1).body(new byte[4]).put("/internal/v1/sessions/x/snapshot").then().statusCode(401);
        api().get("/internal/v1/sessions/x").then().statusCode(404);
        // spellings of the same path must not skip the secret
        turn("secret-1", "", null, null).then().statusCode(200);
        for (String path : List.of("/internal;a=b/v1/sessions/secret-1", "//internal/v1/sessions/secret-1",
                "/internal/./v1/sessions/secret-1", "/x/../internal/v1/sessions/secret-1", "/%69nternal/v1/sessions/secret-1")) {
            int status = RestAssured.given().urlEncodingEnabled(false).get(path).statusCode();
            org.junit.jupiter.api.Assertions.assertTrue(status == 401 || status == 404, path + " answered " + status);
        }
    }

    @Test
    void anotherOwnerSeesNoSessionAndCannotDeleteOrExtendIt() {
        turn("own-1", OWNER_A, List.of(msg("user", "Hi")), "Hello").then().statusCode(200);
        api().header("X-Owner", OWNER_B).get("/internal/v1/sessions/own-1").then().statusCode(404)
                .body("error.code", equalTo("session_not_found"));
        api().header("X-Owner", OWNER_B).delete("/internal/v1/sessions/own-1").then().statusCode(404);
        turn("own-1", OWNER_B, List.of(msg("user", "Mine now")), "No").then().statusCode(404);
        api().header("X-Owner", OWNER_A).get("/internal/v1/sessions/own-1").then().statusCode(200)
                .body("token_count", equalTo(42)).body("messages", hasSize(2)).body("messages[1].content", equalTo("Hello"));
        api().header("X-Owner", OWNER_A).delete("/internal/v1/sessions/own-1").then().statusCode(200).body("deleted", equalTo(true));
        api().header("X-Owner", OWNER_A).get("/internal/v1/sessions/own-1").then().statusCode(404);
    }

    @Test
    void aSessionCreatedByAParkedSnapshotIsClaimedByItsFirstTurn() {
        // the inference side parks without knowing the owner; ids are scoped by key, so the first turn's owner is it
        long id = System.nanoTime();
        String sid = "0123456789abcdef:" + "x".repeat(128 - String.valueOf(id).length()) + id; // a scoped id longer than 128
        api().contentType("application/octet-stream").header("X-Model", "m").header("X-Token-Count", 2).body(new byte[8])
                .put("/internal/v1/sessions/" + sid + "/snapshot").then().statusCode(200);
        turn(sid, OWNER_A, null, null).then().statusCode(200);
        api().header("X-Owner", OWNER_B).get("/internal/v1/sessions/" + sid).then().statusCode(404);
        api().header("X-Owner", OWNER_A).get("/internal/v1/sessions/" + sid).then().statusCode(200).body("messages", hasSize(0));
    }

    @Test
    void followUpTurnsSendTheWholeHistoryOrOnlyTheNewMessages() {
        String id = "conv-" + System.nanoTime();
        var u1 = msg("user", "Tell me a story");
        var u2 = msg("user", "Go on");
        var u3 = msg("user", "The end?");
        api().contentType("application/json").body(Map.of("messages", List.of(u1))).post("/internal/v1/sessions/" + id + "/conversation")
                .then().statusCode(200).body("mode", equalTo("full_history")).body("messages", hasSize(1));
        turn(id, "", List.of(u1), "Once upon a time").then().statusCode(200).body("messages", hasSize(2));

        // only the new message: the stored conversation comes first
        api().contentType("application/json").body(Map.of("messages", List.of(u2))).post("/internal/v1/sessions/" + id + "/conversation")
                .then().statusCode(200).body("mode", equalTo("new_messages")).body("messages", hasSize(3))
                .body("messages[1].content", equalTo("Once upon a time")).body("messages[2].content", equalTo("Go on"));
        turn(id, "", List.of(u2), "there was a cat").then().statusCode(200).body("messages", hasSize(4));

        // the whole history: as given
        var full = List.of(u1, msg("assistant", "Once upon a time"), u2, msg("assistant", "there was a cat"), u3);
        api().contentType("application/json").body(Map.of("messages", full)).post("/internal/v1/sessions/" + id + "/conversation")
                .then().statusCode(200).body("mode", equalTo("full_history")).body("messages", hasSize(5));

        // a rewritten history replaces the stored one after the turn
        var rewritten = List.of(u1, msg("assistant", "Long ago"), u3);
        api().contentType("application/json").body(Map.of("messages", rewritten)).post("/internal/v1/sessions/" + id + "/conversation")
                .then().statusCode(200).body("mode", equalTo("rewritten")).body("messages", hasSize(3));
        turn(id, "", rewritten, "Yes.").then().statusCode(200).body("messages", hasSize(4))
                .body("messages[1].content", equalTo("Long ago")).body("messages[3].content", equalTo("Yes."));
    }

    @Test
    void anEncodedSlashOrDotSegmentInAnIdNeverReachesAnotherSession() {
        // ids travel as one percent-encoded path segment; decoded they must stay one id, never a path
        String victim = "0123456789abcdef:victim-" + System.nanoTime();
        turn(victim, OWNER_B, List.of(msg("user", "my secret")), "noted").then().statusCode(200);
        api().contentType("application/octet-stream").header("X-Model", "m").header("X-Token-Count", 2).body(new byte[8])
                .put("/internal/v1/sessions/" + victim + "/snapshot").then().statusCode(200);
        String attacker = "fedcba9876543210:x%2F..%2F..%2Fsessions%2F" + victim;
        api().urlEncodingEnabled(false).contentType("application/json")
                .body("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .post("/internal/v1/sessions/" + attacker + "/conversation")
                .then().statusCode(200).body("messages", hasSize(1)).body("messages[0].content", equalTo("hi"));
        api().urlEncodingEnabled(false).get("/internal/v1/sessions/" + attacker + "/snapshot").then().statusCode(404);
        api().urlEncodingEnabled(false).delete("/internal/v1/sessions/" + attacker + "/snapshot").then().statusCode(404);
        api().urlEncodingEnabled(false).get("/internal/v1/sessions/" + victim.replace(":", "%3A") + "%2Fsnapshot").then().statusCode(404);
        api().get("/internal/v1/sessions/" + victim + "/snapshot").then().statusCode(200);
        api().header("X-Owner", OWNER_B).get("/internal/v1/sessions/" + victim).then().statusCode(200).body("messages", hasSize(2));
    }

    @Test
    void badTurnsAreRefusedNamingTheField() {
        api().contentType("application/json").body(Map.of("model", "m")).put("/internal/v1/sessions/b/turn")
                .then().statusCode(400).body("error.param", equalTo("owner"));
        api().contentType("application/json").body(Map.of("owner", "", "model", "m", "messages", List.of(msg("user", "x"))))
                .put("/internal/v1/sessions/b/turn").then().statusCode(400).body("error.param", equalTo("reply"));
        api().contentType("application/json").body(Map.of("messages", List.of())).post("/internal/v1/sessions/b/conversation")
                .then().statusCode(400).body("error.param", equalTo("messages"));
    }
}
