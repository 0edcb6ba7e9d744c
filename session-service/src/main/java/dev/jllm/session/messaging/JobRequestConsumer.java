package dev.jllm.session.messaging;

import dev.jllm.contracts.JobCancelled;
import dev.jllm.contracts.JobCommand;
import dev.jllm.contracts.JobSubmitted;
import dev.jllm.session.service.JobService;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

import java.sql.SQLException;

/**
 * Jobs from Kafka-native clients ({@code job-requests}, consumer group {@code job-runner}, shared by the
 * replicas): stored (or cancelled) in the database, then acknowledged, so a crash in between means a
 * redelivery, which the store ignores. JDBC blocks: a worker thread, in partition order.
 *
 * <p>A command the database cannot take now (PostgreSQL restarting, the pool exhausted) is tried again after a
 * back-off (1 s doubling to 30 s) until it is stored: it is never acknowledged, nor dead-lettered, unstored.
 * Only a command that can never be stored (refused data) goes to the dead-letter topic, or one still failing
 * when the service shuts down (its worker thread is interrupted).
 */
@ApplicationScoped
public class JobRequestConsumer {
    private static final Logger LOG = Logger.getLogger(JobRequestConsumer.class);
    static final long RETRY_MILLIS = 1_000, RETRY_MAX_MILLIS = 30_000;

    @Inject JobService jobs;

    long retryMillis = RETRY_MILLIS;
    private volatile boolean stopping;

    void onStop(@Observes ShutdownEvent ev) {
        stopping = true;
    }

    @Incoming("job-requests")
    @Blocking(ordered = true)
    public void onCommand(JobCommand command) {
        if (command == null) return; // undeserializable: dead-lettered by the failure handler
        for (int attempt = 1; ; attempt++) {
            try {
                apply(command);
                return;
            } catch (RuntimeException e) {
                if (!transientFailure(e) || stopping) throw e;
                long wait = Math.min(retryMillis << Math.min(attempt - 1, 5), RETRY_MAX_MILLIS);
                LOG.warnf("job %s from Kafka not stored (attempt %d: %s); again in %d ms", command.jobId(), attempt, e.getMessage(), wait);
                try {
                    Thread.sleep(wait);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private void apply(JobCommand command) {
        switch (command) {
            case JobSubmitted s -> jobs.submitFromKafka(s);
            case JobCancelled c -> jobs.cancel(c.jobId(), null);
        }
    }

    /**
     * Whether the database failed rather than refused the command: an SQL error of any class but data
     * exceptions (22), integrity constraints (23) and syntax or access rules (42), which would fail again.
     */
    static boolean transientFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql) {
                String state = sql.getSQLState();
                return state == null || !(state.startsWith("22") || state.startsWith("23") || state.startsWith("42"));
            }
        }
        return false;
    }
}
