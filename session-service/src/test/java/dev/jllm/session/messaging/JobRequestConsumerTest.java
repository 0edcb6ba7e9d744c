package dev.jllm.session.messaging;

import dev.jllm.contracts.JobSubmitted;
import dev.jllm.session.service.JobService;
import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** A Kafka-native job is acknowledged only once stored: a database that fails for a while delays it, never drops it. */
class JobRequestConsumerTest {
    /** JobService whose store fails {@code failures} times with {@code cause}, then stores. */
    static final class FlakyJobs extends JobService {
        final SQLException cause;
        int failures, calls, stored;

        FlakyJobs(int failures, SQLException cause) {
            this.failures = failures;
            this.cause = cause;
        }

        @Override
        public void submitFromKafka(JobSubmitted s) {
            calls++;
            if (failures-- > 0) throw new IllegalStateException("storing job " + s.jobId() + " failed: " + cause.getMessage(), cause);
            stored++;
        }
    }

    static JobRequestConsumer consumer(JobService jobs) {
        JobRequestConsumer c = new JobRequestConsumer();
        c.jobs = jobs;
        c.retryMillis = 1; // the back-off's start; its doubling and cap are the production ones
        return c;
    }

    static final JobSubmitted JOB = new JobSubmitted("job-1", null, List.of(), null);

    @Test
    void aDatabaseThatFailsForAWhileDelaysTheJobButStoresIt() {
        FlakyJobs jobs = new FlakyJobs(3, new SQLTransientConnectionException("Connection refused", "08001"));
        consumer(jobs).onCommand(JOB); // returns: acknowledged
        assertEquals(4, jobs.calls);
        assertEquals(1, jobs.stored);
        FlakyJobs pool = new FlakyJobs(2, new SQLException("Sorry, acquisition timeout!")); // Agroal: no SQLState
        consumer(pool).onCommand(JOB);
        assertEquals(1, pool.stored);
    }

    @Test
    void dataTheDatabaseRefusesIsNotTriedAgain() {
        FlakyJobs jobs = new FlakyJobs(1, new SQLException("invalid byte sequence for encoding \"UTF8\": 0x00", "22021"));
        assertThrows(IllegalStateException.class, () -> consumer(jobs).onCommand(JOB)); // dead-lettered by the failure strategy
        assertEquals(1, jobs.calls);
        assertEquals(0, jobs.stored);
    }

    @Test
    void failuresThatAreNotTheDatabasesAreNotTriedAgain() {
        JobService bad = new JobService() {
            @Override
            public void submitFromKafka(JobSubmitted s) {
                throw new IllegalArgumentException("job id must be 1 to 64 characters");
            }
        };
        assertThrows(IllegalArgumentException.class, () -> consumer(bad).onCommand(JOB));
    }
}
