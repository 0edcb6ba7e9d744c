package dev.jllm.session.persistence;

import io.agroal.api.AgroalDataSource;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.List;

/**
 * Versioned SQL migrations ({@code db/migration/index.txt} lists {@code V<n>__<name>.sql} in order), applied at
 * start-up before anything touches the schema (Flyway's Quarkus extension does not resolve on this project's
 * Maven mirror). An advisory lock serialises replicas starting together; each file runs in its own
 * transaction and its checksum is recorded, so an edited applied file is refused instead of drifting.
 */
@ApplicationScoped
public class Migrations {
    private static final Logger LOG = Logger.getLogger(Migrations.class);
    private static final long LOCK_KEY = 0x6a6c6c6d5f6d6967L; // "jllm_mig"

    @Inject
    AgroalDataSource dataSource;

    void onStart(@Observes @Priority(1) StartupEvent ev) {
        migrate();
    }

    public void migrate() {
        List<String> files = index();
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(true);
            try (Statement s = c.createStatement()) {
                s.execute("SELECT pg_advisory_lock(" + LOCK_KEY + ")");
                s.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                        + "checksum CHAR(64) NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
            }
            try {
                for (String file : files) apply(c, file);
            } finally {
                try (Statement s = c.createStatement()) {
                    s.execute("SELECT pg_advisory_unlock(" + LOCK_KEY + ")");
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("database migration failed: " + e.getMessage(), e);
        }
    }

    private void apply(Connection c, String file) throws SQLException {
        int version = Integer.parseInt(file.substring(1, file.indexOf("__")));
        String sql = read("db/migration/" + file);
        String checksum = sha256(sql);
        try (PreparedStatement q = c.prepareStatement("SELECT checksum FROM schema_migrations WHERE version = ?")) {
            q.setInt(1, version);
            try (ResultSet rs = q.executeQuery()) {
                if (rs.next()) {
                    if (!rs.getString(1).trim().equals(checksum)) {
                        throw new IllegalStateException("migration " + file + " was changed after it was applied");
                    }
                    return;
                }
            }
        }
        c.setAutoCommit(false);
        try (Statement s = c.createStatement();
             PreparedStatement ins = c.prepareStatement("INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)")) {
            s.execute(sql);
            ins.setInt(1, version);
            ins.setString(2, file);
            ins.setString(3, checksum);
            ins.executeUpdate();
            c.commit();
            LOG.infof("applied migration %s", file);
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    static List<String> index() {
        return read("db/migration/index.txt").lines().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    }

    private static String read(String resource) {
        try (InputStream in = Migrations.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("missing migration resource " + resource);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
