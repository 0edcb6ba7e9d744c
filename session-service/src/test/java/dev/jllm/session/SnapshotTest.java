package dev.jllm.session;

import dev.jllm.testsupport.KafkaResource;
import dev.jllm.testsupport.PostgresResource;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HexFormat;
import java.util.Random;

import static dev.jllm.session.InternalApi.api;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.*;

/** Parked KV snapshots in real PostgreSQL: chunked, checksummed, replaced atomically, deleted with their session. */
@QuarkusTest
@WithTestResource(value = PostgresResource.class, parallel = true)
@WithTestResource(value = KafkaResource.class, parallel = true)
@WithTestResource(value = InternalApi.class, parallel = true)
class SnapshotTest {
    static final int CHUNK = 1 << 20; // the default jllm.session.chunk-bytes

    @Inject
    AgroalDataSource dataSource;

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    static Response put(String id, byte[] body, int tokens) {
        return api().contentType("application/octet-stream").header("X-Model", "m").header("X-Token-Count", tokens)
                .body(body).put("/internal/v1/sessions/" + id + "/snapshot");
    }

    int count(String sql, String id) throws Exception {
        try (Connection c = dataSource.getConnection(); PreparedStatement q = c.prepareStatement(sql)) {
            q.setString(1, id);
            try (ResultSet rs = q.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    @Test
    void aSnapshotRoundTripsThroughChunksWithItsChecksum() throws Exception {
        byte[] snap = random(3 * CHUNK + CHUNK / 2 + 7, 1);
        put("snap-1", snap, 321).then().statusCode(200).body("chunks", equalTo(4)).body("sha256", equalTo(sha256(snap)));
        assertEquals(4, count("SELECT count(*) FROM kv_snapshot_chunks WHERE session_id = ?", "snap-1"));
        Response r = api().get("/internal/v1/sessions/snap-1/snapshot");
        r.then().statusCode(200).header("X-Token-Count", "321").header("X-Snapshot-Sha256", sha256(snap));
        assertArrayEquals(snap, r.asByteArray());

        // replaced by a smaller one in one transaction: no stale chunks left behind
        byte[] smaller = random(CHUNK + 1, 2);
        put("snap-1", smaller, 400).then().statusCode(200).body("chunks", equalTo(2));
        assertEquals(2, count("SELECT count(*) FROM kv_snapshot_chunks WHERE session_id = ?", "snap-1"));
        assertArrayEquals(smaller, api().get("/internal/v1/sessions/snap-1/snapshot").asByteArray());
        // the session row exists for it (created by the first put)
        api().get("/internal/v1/sessions/snap-1").then().statusCode(200).body("model", equalTo("m"));
    }

    @Test
    void aCorruptedChunkIsCaughtByTheChecksum() throws Exception {
        byte[] snap = random(2 * CHUNK + 5, 3);
        put("snap-2", snap, 10).then().statusCode(200);
        try (Connection c = dataSource.getConnection(); PreparedStatement u = c.prepareStatement(
                "UPDATE kv_snapshot_chunks SET data = set_byte(data, 100, (get_byte(data, 100) + 1) % 256) WHERE session_id = ? AND chunk_index = 1")) {
            u.setString(1, "snap-2");
            assertEquals(1, u.executeUpdate());
        }
        Response r = api().get("/internal/v1/sessions/snap-2/snapshot");
        r.then().statusCode(200);
        assertNotEquals(r.header("X-Snapshot-Sha256"), sha256(r.asByteArray()), "the reader must be able to tell");
    }

    @Test
    void missingSnapshotsAre404AndDeletingTheSessionDeletesItsSnapshot() throws Exception {
        api().get("/internal/v1/sessions/none/snapshot").then().statusCode(404).body("error.code", equalTo("session_not_found"));
        put("snap-3", random(10, 4), 1).then().statusCode(200);
        api().delete("/internal/v1/sessions/snap-3").then().statusCode(200);
        assertEquals(0, count("SELECT count(*) FROM kv_snapshot_chunks WHERE session_id = ?", "snap-3"));
        api().get("/internal/v1/sessions/snap-3/snapshot").then().statusCode(404);
    }

    @Test
    void requiredHeadersAreChecked() {
        api().contentType("application/octet-stream").body(new byte[3]).put("/internal/v1/sessions/x/snapshot")
                .then().statusCode(400).body("error.param", equalTo("X-Model"));
        api().contentType("application/octet-stream").header("X-Model", "m").body(new byte[3])
                .put("/internal/v1/sessions/x/snapshot").then().statusCode(400).body("error.param", equalTo("X-Token-Count"));
    }
}
