package dev.jllm.session.service;

import dev.jllm.session.config.SessionConfig;
import io.agroal.api.AgroalDataSource;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Deletes sessions idle longer than {@code jllm.session.ttl}, with their snapshots (ON DELETE CASCADE), every
 * {@code retention-interval}, on its own daemon thread (blocking JDBC, never the event loop).
 */
@ApplicationScoped
public class Retention {
    private static final Logger LOG = Logger.getLogger(Retention.class);

    @Inject AgroalDataSource dataSource;
    @Inject SessionConfig config;

    private ScheduledExecutorService timer;

    void onStart(@Observes StartupEvent ev) {
        long every = config.retentionInterval().toMillis();
        timer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("session-retention").daemon(true).unstarted(r));
        timer.scheduleWithFixedDelay(() -> {
            try {
                int n = purge();
                if (n > 0) LOG.infof("deleted %d sessions idle for more than %s", n, config.ttl());
            } catch (RuntimeException e) {
                LOG.warnf("session retention failed: %s", e.toString());
            }
        }, every, every, TimeUnit.MILLISECONDS);
    }

    void onStop(@Observes ShutdownEvent ev) {
        if (timer != null) timer.shutdownNow();
    }

    /** Deletes the expired sessions now; returns how many. */
    public int purge() {
        try (Connection c = dataSource.getConnection();
             PreparedStatement d = c.prepareStatement("DELETE FROM sessions WHERE last_used_at < now() - make_interval(secs => ?)")) {
            d.setDouble(1, config.ttl().toMillis() / 1000.0);
            return d.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("session retention failed: " + e.getMessage(), e);
        }
    }
}
