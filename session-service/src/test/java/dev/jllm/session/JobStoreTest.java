package dev.jllm.session;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jllm.contracts.JobItem;
import dev.jllm.contracts.JobSubmitted;
import dev.jllm.session.service.JobService;
import dev.jllm.session.persistence.JobStore;
import dev.jllm.testsupport.KafkaResource;
import dev.jllm.testsupport.PostgresResource;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** JobStore's transactions against each other and its owner scoping, on a real PostgreSQL. */
@QuarkusTest
@WithTestResource(value = PostgresResource.class, parallel = true)
@WithTestResource(value = KafkaResource.class, parallel = true)
@WithTestResource(value = InternalApi.class, parallel = true)
class JobStoreTest {
    static final String OWNER = "7".repeat(64), OTHER = "8".repeat(64); // of this class only (the list counts them)
    static final ObjectMapper MAPPER = new ObjectMapper();

    @Inject JobStore store;
    @Inject JobService jobs;
    @Inject AgroalDataSource dataSource;

    static List<JobItem> items(int n) throws Exception {
        var body = MAPPER.readTree("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":1}");
        return java.util.stream.IntStream.range(0, n).mapToObj(i -> new JobItem(null, "/v1/chat/completions", body)).toList();
    }

    @Test
    void anotherOwnersJobIsNoCursor() throws Exception {
        String mine = "cursor-mine-" + System.nanoTime();
        assertTrue(store.create(mine, OWNER, items(1), null, null));
        Thread.sleep(5); // created_at orders the page
        String theirs = "cursor-theirs-" + System.nanoTime();
        assertTrue(store.create(theirs, OTHER, items(1), null, null));
        assertEquals(List.of(mine), store.list(OWNER, 10, null).stream().map(JobStore.JobView::id).filter(id -> id.startsWith("cursor-")).toList());
        // the other owner's newer job as a cursor must not page through (nor reveal where it sits among) this owner's jobs
        assertEquals(List.of(), store.list(OWNER, 10, theirs));
        assertEquals(List.of(), store.list(OWNER, 10, mine));
        store.cancel(mine, null); // out of the runner's way (other tests' items need its slots)
        store.cancel(theirs, null);
    }

    @Test
    void aKafkaNativeJobThatCannotBeStoredAsSentFailsWithItsReason() throws Exception {
        // PostgreSQL refuses NUL in text: such a job once made the consumer throw, and the record was dead-lettered unanswered
        String bad = "kafka-bad-custom-id-" + System.nanoTime();
        jobs.submitFromKafka(new JobSubmitted(bad, null, List.of(new JobItem("a\u0000b", JobItem.CHAT_URL, items(1).getFirst().body())), null));
        JobStore.JobView job = store.find(bad, "").orElseThrow();
        assertEquals(JobStore.FAILED, job.status());
        assertTrue(job.message().contains("requests[0].custom_id"), job.message());

        String badOwner = "kafka-bad-owner-" + System.nanoTime();
        jobs.submitFromKafka(new JobSubmitted(badOwner, "not-a-hash\u0000", items(1), null));
        JobStore.JobView owned = store.find(badOwner, "").orElseThrow();
        assertEquals(JobStore.FAILED, owned.status());
        assertTrue(owned.message().contains("owner"), owned.message());

        String good = "kafka-good-owner-" + System.nanoTime();
        jobs.submitFromKafka(new JobSubmitted(good, OWNER, items(1), null));
        assertNotEquals(JobStore.FAILED, store.find(good, OWNER).orElseThrow().status());
        store.cancel(good, null);
    }

    /**
     * A cancel (job row, then its items) while an item's result is stored: with the item locked before the job
     * this deadlocks and PostgreSQL aborts one of them; with one lock order the result waits and finds the item
     * cancelled.
     */
    @Test
    void aCancelAndAnItemsResultArrivingTogetherNeverDeadlock() throws Exception {
        String id = "lock-order-" + System.nanoTime();
        assertTrue(store.create(id, OWNER, items(1), null, null));
        try (Connection cancel = dataSource.getConnection()) {
            cancel.setAutoCommit(false);
            try (PreparedStatement q = cancel.prepareStatement("SELECT owner FROM jobs WHERE id = ? FOR UPDATE")) {
                q.setString(1, id);
                q.executeQuery().close();
            }
            CompletableFuture<Boolean> finish = CompletableFuture.supplyAsync(() -> store.finish(id, 0, JobStore.COMPLETED, "{}", null));
            awaitLockWait(10_000);
            try (PreparedStatement j = cancel.prepareStatement("UPDATE jobs SET status = 'cancelled', finished_at = now() WHERE id = ?");
                 PreparedStatement i = cancel.prepareStatement("UPDATE job_items SET status = 'cancelled', finished_at = now() "
                         + "WHERE job_id = ? AND status = 'pending'")) {
                j.setString(1, id);
                j.executeUpdate();
                i.setString(1, id);
                assertEquals(1, i.executeUpdate(), "the pending item is cancelled");
            }
            cancel.commit();
            assertFalse(finish.get(30, TimeUnit.SECONDS), "the result of a cancelled item is not stored");
        }
        JobStore.JobView job = store.find(id, OWNER).orElseThrow();
        assertEquals(JobStore.CANCELLED, job.status());
        assertEquals(0, job.completed());
        assertEquals(JobStore.CANCELLED, job.items().getFirst().status());
    }

    /**
     * Waits until a backend waits for a lock on jobs (the finishing transaction). Polled on a connection of its
     * own in autocommit: pg_stat_activity is a snapshot per transaction.
     */
    private void awaitLockWait(long timeoutMillis) throws Exception {
        long end = System.currentTimeMillis() + timeoutMillis;
        try (Connection c = dataSource.getConnection(); PreparedStatement q = c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                + "AND pid <> pg_backend_pid() AND query LIKE '%jobs%'")) {
            while (System.currentTimeMillis() < end) {
                try (ResultSet rs = q.executeQuery()) {
                    if (rs.next() && rs.getInt(1) > 0) return;
                }
                Thread.sleep(20);
            }
        }
        fail("the finishing transaction never waited for the job's lock");
    }
}
