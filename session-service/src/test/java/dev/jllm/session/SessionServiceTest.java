package dev.jllm.session;

import dev.jllm.session.persistence.SessionEntity;
import dev.jllm.testsupport.KafkaResource;
import dev.jllm.testsupport.PostgresResource;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.time.OffsetDateTime;

import static dev.jllm.session.InternalApi.api;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.*;

@QuarkusTest
@WithTestResource(value = PostgresResource.class, parallel = true)
@WithTestResource(value = KafkaResource.class, parallel = true)
@WithTestResource(value = InternalApi.class, parallel = true)
class SessionServiceTest {

    @Inject
    AgroalDataSource dataSource;

    @Test
    void migrationsRanOnceAndAreRecorded() throws Exception {
        try (Connection c = dataSource.getConnection();
             ResultSet rs = c.createStatement().executeQuery("SELECT version, name FROM schema_migrations ORDER BY version")) {
            assertTrue(rs.next());
            assertEquals(1, rs.getInt(1));
            assertEquals("V1__sessions.sql", rs.getString(2));
            assertTrue(rs.next());
            assertEquals(2, rs.getInt(1));
            assertEquals("V2__conversations.sql", rs.getString(2));
        }
    }

    @Test
    void healthIsUpWithTheDatabase() {
        // health needs no token
        RestAssured.given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        RestAssured.given().get("/q/health/live").then().statusCode(200);
    }

    @Test
    void unknownSessionIs404InOpenAiErrorShape() {
        api().get("/internal/v1/sessions/nope").then().statusCode(404)
                .body("error.code", equalTo("session_not_found"))
                .body("error.type", equalTo("invalid_request_error"));
    }

    @Test
    void aStoredSessionIsReadAndDeleted() {
        store("s-1");
        api().get("/internal/v1/sessions/s-1").then().statusCode(200).body("model", equalTo("m")).body("token_count", equalTo(3));
        api().delete("/internal/v1/sessions/s-1").then().statusCode(200).body("deleted", equalTo(true));
        api().get("/internal/v1/sessions/s-1").then().statusCode(404);
    }

    @Inject
    dev.jllm.session.service.Retention retention;

    @Test
    void sessionsIdlePastTheTtlAreDeletedWithTheirSnapshots() throws Exception {
        store("old-1");
        store("fresh-1");
        try (Connection c = dataSource.getConnection()) {
            c.createStatement().executeUpdate("UPDATE sessions SET last_used_at = now() - interval '25 hours' WHERE id = 'old-1'");
        }
        assertTrue(retention.purge() >= 1);
        api().get("/internal/v1/sessions/old-1").then().statusCode(404);
        api().get("/internal/v1/sessions/fresh-1").then().statusCode(200);
    }

    @Transactional
    void store(String id) {
        SessionEntity s = new SessionEntity();
        s.id = id;
        s.owner = "";
        s.model = "m";
        s.tokenCount = 3;
        s.tokenHistory = new byte[12];
        s.createdAt = OffsetDateTime.now();
        s.lastUsedAt = s.createdAt;
        s.persist();
    }
}
