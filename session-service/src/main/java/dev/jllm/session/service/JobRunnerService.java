package dev.jllm.session.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jllm.contracts.GenerationEvent;
import dev.jllm.openai.JobRequestParser;
import dev.jllm.session.config.JobsConfig;
import dev.jllm.session.persistence.JobStore;
import io.agroal.api.AgroalDataSource;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;

/**
 * Runs the {@link JobRunner} on its own platform thread ({@code job-runner}: blocking JDBC, never the event
 * loop) on exactly one replica at a time: the one holding a PostgreSQL advisory lock on a connection of its
 * own. If that replica dies its connection closes, the lock is free, and another replica's runner takes over
 * and resumes the unfinished items from the database. A replica leads only once its job-generation-events consumer
 * holds its partitions.
 */
@ApplicationScoped
public class JobRunnerService {
    private static final Logger LOG = Logger.getLogger(JobRunnerService.class);
    private static final long LOCK_KEY = 0x6a6c6c6d5f6a6f62L; // "jllm_job"
    private static final long RETRY_LEAD_MILLIS = 2_000;
    private static final long CHECK_LEAD_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final long PURGE_EVERY_NANOS = TimeUnit.HOURS.toNanos(1);

    @Inject JobsConfig config;
    @Inject JobStore store;
    @Inject dev.jllm.session.messaging.JobPipeline pipeline;
    @Inject AgroalDataSource dataSource;

    private JobRunner runner;
    private Thread thread;
    private volatile boolean eventsAssigned;
    private volatile boolean leading;
    private volatile boolean stopping;
    private Connection lock;

    void onStart(@Observes StartupEvent ev) {
        var settings = new JobRunner.Settings(config.maxInFlight(), config.itemTimeout(), config.maxAttempts(), config.retryBackoff(),
                config.retryBackoffMax(), config.pollInterval());
        runner = new JobRunner(settings, store, pipeline, new JobRequestParser(new ObjectMapper(), config.models().orElse(null),
                config.maxItems()), new ObjectMapper(), System::nanoTime);
        thread = Thread.ofPlatform().name("job-runner").daemon(true).start(this::loop);
    }

    void onStop(@Observes ShutdownEvent ev) {
        stopping = true;
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        release();
    }

    /**
     * From the job-generation-events consumer thread. Only the leader has attempts in flight: a replica that does not
     * lead drops the events (they would only fill its inbox).
     */
    public void offer(GenerationEvent event) {
        if (runner != null && leading) runner.offer(event);
    }

    public void eventsAssigned() {
        eventsAssigned = true;
    }

    /** New work was stored (on this replica): look now. */
    public void wake() {
        if (runner != null) runner.wake();
    }

    /** Whether this replica runs the jobs now. */
    public boolean leading() {
        return leading;
    }

    private void loop() {
        long lastCheck = System.nanoTime();
        long lastPurge = 0;
        while (!stopping) {
            try {
                if (!leading) {
                    if (eventsAssigned && acquire()) {
                        leading = true;
                        lastCheck = System.nanoTime();
                        LOG.info("this replica runs the jobs (resuming unfinished ones)");
                    } else {
                        Thread.sleep(RETRY_LEAD_MILLIS);
                        continue;
                    }
                }
                runner.runOnce(Math.min(100, config.pollInterval().toMillis()));
                long now = System.nanoTime();
                if (now - lastCheck > CHECK_LEAD_NANOS) {
                    lastCheck = now;
                    if (!lock.isValid(2)) stepDown("its database connection was lost");
                }
                if (lastPurge == 0 || now - lastPurge > PURGE_EVERY_NANOS) {
                    lastPurge = now;
                    int n = store.purge(config.ttl());
                    if (n > 0) LOG.infof("deleted %d jobs finished more than %s ago", n, config.ttl());
                }
            } catch (InterruptedException e) {
                break;
            } catch (SQLException | RuntimeException e) {
                LOG.warnf("job runner: %s", e.toString());
                if (lock != null && !valid()) stepDown("its database connection failed");
                try {
                    Thread.sleep(1_000);
                } catch (InterruptedException ie) {
                    break;
                }
            }
        }
    }

    private boolean acquire() {
        try {
            Connection c = dataSource.getConnection();
            c.setAutoCommit(true);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_try_advisory_lock(" + LOCK_KEY + ")")) {
                if (rs.next() && rs.getBoolean(1)) {
                    lock = c;
                    return true;
                }
            }
            c.close();
            return false;
        } catch (SQLException e) {
            LOG.warnf("job runner: cannot reach the database: %s", e.getMessage());
            return false;
        }
    }

    private boolean valid() {
        try {
            return lock.isValid(2);
        } catch (SQLException e) {
            return false;
        }
    }

    private void stepDown(String why) {
        LOG.warnf("this replica stops running the jobs: %s", why);
        leading = false;
        runner.reset();
        release();
    }

    private void release() {
        Connection c = lock;
        lock = null;
        if (c == null) return;
        try (c) {
            try (Statement s = c.createStatement()) {
                s.execute("SELECT pg_advisory_unlock(" + LOCK_KEY + ")");
            }
        } catch (SQLException e) {
            LOG.debugf("releasing the job lock: %s", e.getMessage());
        }
    }
}
