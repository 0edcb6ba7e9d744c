package dev.jllm.testsupport;

import dev.jllm.infra.Postgres;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Map;

/** A real PostgreSQL server in a temp directory, for {@code @QuarkusTest}s. */
public class PostgresResource implements QuarkusTestResourceLifecycleManager {
    private Postgres pg;

    @Override
    public Map<String, String> start() {
        try {
            pg = Postgres.start(Files.createTempDirectory("jllm-pg"), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.of(
                "quarkus.datasource.jdbc.url", pg.jdbcUrl(),
                "quarkus.datasource.username", pg.user(),
                "quarkus.datasource.password", pg.password());
    }

    @Override
    public void stop() {
        if (pg != null) pg.close();
    }
}
