package dev.jllm.session.persistence;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jllm.contracts.JobEvent;
import dev.jllm.contracts.JobFinished;
import dev.jllm.contracts.JobItem;
import dev.jllm.contracts.JobItemCompleted;
import dev.jllm.contracts.Json;
import dev.jllm.session.service.JobRunner;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Jobs and their items in PostgreSQL (tables {@code jobs} and {@code job_items}, migration V3), over plain JDBC:
 * each method is one short transaction, and every change is guarded by the row's current status, so a repeated
 * call (a redelivered record, a second runner, a late result of a cancelled item) changes nothing.
 * An {@code owner} of null means "any owner" (the runner, Kafka-native clients); otherwise another owner's job
 * is treated as absent.
 */
@ApplicationScoped
public class JobStore implements JobRunner.Store {
    public static final String QUEUED = "queued", RUNNING = "running", COMPLETED = "completed", FAILED = "failed",
            CANCELLED = "cancelled", PENDING = "pending";

    @Inject AgroalDataSource dataSource;

    private final ObjectMapper mapper = Json.mapper();

    /** A job as its owner sees it ({@code items} null in a list). */
    public record JobView(String id, String owner, String status, int total, int completed, int failed, String message,
                          String metadata, OffsetDateTime createdAt, OffsetDateTime startedAt, OffsetDateTime finishedAt,
                          List<ItemView> items) {}

    /** One item: {@code pending} until it has a response or an error. */
    public record ItemView(int index, String customId, String status, int attempts, String response, String error) {}

    /**
     * Stores a new job and its items, all pending (status {@code queued}); nothing if the id exists (a repeated
     * submission). With {@code failure} set, the job is stored as failed with that message and no items.
     * True if it was stored now.
     */
    public boolean create(String id, String owner, List<JobItem> items, JsonNode metadata, String failure) {
        return transaction("storing job " + id, c -> {
            try (PreparedStatement j = c.prepareStatement("INSERT INTO jobs (id, owner, status, total, message, metadata, finished_at) "
                    + "VALUES (?, ?, ?, ?, ?, ?, CASE WHEN ? THEN now() END) ON CONFLICT (id) DO NOTHING");
                 PreparedStatement i = c.prepareStatement("INSERT INTO job_items (job_id, item_index, custom_id, url, body) VALUES (?, ?, ?, ?, ?)")) {
                j.setString(1, id);
                j.setString(2, owner == null ? "" : owner);
                j.setString(3, failure == null ? QUEUED : FAILED);
                j.setInt(4, items.size());
                j.setString(5, failure);
                j.setString(6, metadata == null ? null : write(metadata));
                j.setBoolean(7, failure != null);
                if (j.executeUpdate() == 0) return false;
                if (failure != null) return true;
                for (int n = 0; n < items.size(); n++) {
                    JobItem item = items.get(n);
                    i.setString(1, id);
                    i.setInt(2, n);
                    i.setString(3, item.customId());
                    i.setString(4, item.url());
                    i.setString(5, item.body() == null ? null : write(item.body()));
                    i.addBatch();
                }
                i.executeBatch();
                return true;
            }
        });
    }

    public Optional<JobView> find(String id, String owner) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement q = c.prepareStatement("SELECT " + JOB_COLUMNS + " FROM jobs WHERE id = ?");
             PreparedStatement qi = c.prepareStatement("SELECT item_index, custom_id, status, attempts, response, error FROM job_items "
                     + "WHERE job_id = ? ORDER BY item_index")) {
            q.setString(1, id);
            JobView job;
            try (ResultSet rs = q.executeQuery()) {
                if (!rs.next() || (owner != null && !owner.equals(rs.getString(2)))) return Optional.empty();
                job = job(rs, new ArrayList<>());
            }
            qi.setString(1, id);
            try (ResultSet rs = qi.executeQuery()) {
                while (rs.next()) {
                    job.items().add(new ItemView(rs.getInt(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getString(5), rs.getString(6)));
                }
            }
            return Optional.of(job);
        } catch (SQLException e) {
            throw new IllegalStateException("reading job " + id + " failed: " + e.getMessage(), e);
        }
    }

    private static final String JOB_COLUMNS = "id, owner, status, total, completed, failed, message, metadata, created_at, started_at, finished_at";

    /** The job on the current row of a {@code SELECT JOB_COLUMNS}. */
    private static JobView job(ResultSet rs, List<ItemView> items) throws SQLException {
        return new JobView(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getInt(5), rs.getInt(6), rs.getString(7),
                rs.getString(8), rs.getObject(9, OffsetDateTime.class), rs.getObject(10, OffsetDateTime.class),
                rs.getObject(11, OffsetDateTime.class), items);
    }

    /**
     * An owner's jobs, newest first, without their items: at most {@code limit}, those created before job
     * {@code after} when it is given (the id of the last job of the previous page; one of another owner's
     * jobs, or none, gives an empty page, so a cursor tells nothing about other owners' jobs).
     */
    public List<JobView> list(String owner, int limit, String after) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement q = c.prepareStatement("SELECT " + JOB_COLUMNS + " FROM jobs WHERE owner = ? AND (CAST(? AS VARCHAR) IS NULL OR (created_at, id) < "
                     + "(SELECT created_at, id FROM jobs WHERE id = ? AND owner = ?)) ORDER BY created_at DESC, id DESC LIMIT ?")) {
            q.setString(1, owner);
            q.setString(2, after);
            q.setString(3, after);
            q.setString(4, owner); // another owner's job is no cursor: nothing comes after it
            q.setInt(5, limit);
            List<JobView> out = new ArrayList<>();
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    out.add(job(rs, null));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("listing jobs failed: " + e.getMessage(), e);
        }
    }

    /**
     * Cancels a queued or running job: its pending items are cancelled (the runner takes running ones out of the
     * pipeline), finished ones keep their results. False if there is no such job (for this owner); a job that had
     * already ended stays as it was.
     */
    public boolean cancel(String id, String owner) {
        return transaction("cancelling job " + id, c -> {
            try (PreparedStatement q = c.prepareStatement("SELECT owner FROM jobs WHERE id = ? FOR UPDATE");
                 PreparedStatement j = c.prepareStatement("UPDATE jobs SET status = 'cancelled', finished_at = now() "
                         + "WHERE id = ? AND status IN ('queued', 'running')");
                 PreparedStatement i = c.prepareStatement("UPDATE job_items SET status = 'cancelled', finished_at = now() "
                         + "WHERE job_id = ? AND status = 'pending'")) {
                q.setString(1, id);
                try (ResultSet rs = q.executeQuery()) {
                    if (!rs.next() || (owner != null && !owner.equals(rs.getString(1)))) return false;
                }
                j.setString(1, id);
                if (j.executeUpdate() > 0) {
                    i.setString(1, id);
                    i.executeUpdate();
                }
                return true;
            }
        });
    }

    /** Deletes jobs that finished more than {@code ttl} ago and whose end was published; returns how many. */
    public int purge(Duration ttl) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement d = c.prepareStatement("DELETE FROM jobs WHERE finished_at < now() - make_interval(secs => ?) AND finish_published")) {
            d.setDouble(1, ttl.toMillis() / 1000.0);
            return d.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("job retention failed: " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ the runner's side

    @Override
    public List<JobRunner.Pending> pending(int limit) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement q = c.prepareStatement("SELECT i.job_id, i.item_index, i.custom_id, i.url, i.body, i.attempts "
                     + "FROM jobs j JOIN job_items i ON i.job_id = j.id "
                     + "WHERE j.status IN ('queued', 'running') AND i.status = 'pending' AND (i.not_before IS NULL OR i.not_before <= now()) "
                     + "ORDER BY j.created_at, j.id, i.item_index LIMIT ?")) {
            q.setInt(1, limit);
            List<JobRunner.Pending> out = new ArrayList<>();
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    out.add(new JobRunner.Pending(rs.getString(1), rs.getInt(2), rs.getString(3), rs.getString(4), rs.getString(5), rs.getInt(6)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("reading pending job items failed: " + e.getMessage(), e);
        }
    }

    @Override
    public int startAttempt(String jobId, int index) {
        return transaction("starting job item " + jobId + "/" + index, c -> {
            lockJob(c, jobId);
            try (PreparedStatement i = c.prepareStatement("UPDATE job_items SET attempts = attempts + 1, not_before = NULL "
                    + "WHERE job_id = ? AND item_index = ? AND status = 'pending' RETURNING attempts");
                 PreparedStatement j = c.prepareStatement("UPDATE jobs SET status = 'running', started_at = now() "
                         + "WHERE id = ? AND status = 'queued'")) {
                i.setString(1, jobId);
                i.setInt(2, index);
                int attempt = 0;
                try (ResultSet rs = i.executeQuery()) {
                    if (rs.next()) attempt = rs.getInt(1);
                }
                if (attempt > 0) {
                    j.setString(1, jobId);
                    j.executeUpdate();
                }
                return attempt;
            }
        });
    }

    @Override
    public boolean finish(String jobId, int index, String status, String response, String error) {
        boolean ok = COMPLETED.equals(status);
        return transaction("finishing job item " + jobId + "/" + index, c -> {
            lockJob(c, jobId);
            try (PreparedStatement i = c.prepareStatement("UPDATE job_items SET status = ?, response = ?, error = ?, finished_at = now() "
                    + "WHERE job_id = ? AND item_index = ? AND status = 'pending'");
                 PreparedStatement j = c.prepareStatement("UPDATE jobs SET completed = completed + ?, failed = failed + ?, "
                         + "status = CASE WHEN completed + failed + 1 >= total AND status IN ('queued', 'running') THEN 'completed' ELSE status END, "
                         + "finished_at = CASE WHEN completed + failed + 1 >= total AND status IN ('queued', 'running') THEN now() ELSE finished_at END "
                         + "WHERE id = ?")) {
                i.setString(1, status);
                i.setString(2, response);
                i.setString(3, error);
                i.setString(4, jobId);
                i.setInt(5, index);
                if (i.executeUpdate() == 0) return false;
                j.setInt(1, ok ? 1 : 0);
                j.setInt(2, ok ? 0 : 1);
                j.setString(3, jobId);
                j.executeUpdate();
                return true;
            }
        });
    }

    @Override
    public void retryAfter(String jobId, int index, Duration delay) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement u = c.prepareStatement("UPDATE job_items SET not_before = now() + make_interval(secs => ?) "
                     + "WHERE job_id = ? AND item_index = ? AND status = 'pending'")) {
            u.setDouble(1, delay.toMillis() / 1000.0);
            u.setString(2, jobId);
            u.setInt(3, index);
            u.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("delaying job item " + jobId + "/" + index + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public Set<String> inactive(Collection<String> jobIds) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement q = c.prepareStatement("SELECT id FROM jobs WHERE id = ANY (?) AND status NOT IN ('queued', 'running')")) {
            Array ids = c.createArrayOf("varchar", jobIds.toArray());
            q.setArray(1, ids);
            Set<String> out = new HashSet<>();
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) out.add(rs.getString(1));
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("reading job states failed: " + e.getMessage(), e);
        }
    }

    @Override
    public List<JobEvent> unpublished(int limit) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement qi = c.prepareStatement("SELECT job_id, item_index, custom_id, status, response, error FROM job_items "
                     + "WHERE status IN ('completed', 'failed') AND NOT published ORDER BY job_id, item_index LIMIT ?");
             PreparedStatement qj = c.prepareStatement("SELECT id, status, total, completed, failed, message FROM jobs j "
                     + "WHERE finished_at IS NOT NULL AND NOT finish_published AND NOT EXISTS (SELECT 1 FROM job_items i "
                     + "WHERE i.job_id = j.id AND i.status IN ('completed', 'failed') AND NOT i.published) ORDER BY finished_at LIMIT ?")) {
            List<JobEvent> out = new ArrayList<>();
            qi.setInt(1, limit);
            try (ResultSet rs = qi.executeQuery()) {
                while (rs.next()) {
                    out.add(new JobItemCompleted(rs.getString(1), rs.getInt(2), rs.getString(3), rs.getString(4),
                            read(rs.getString(5)), read(rs.getString(6))));
                }
            }
            qj.setInt(1, limit);
            try (ResultSet rs = qj.executeQuery()) {
                while (rs.next()) {
                    out.add(new JobFinished(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getInt(4), rs.getInt(5), rs.getString(6)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("reading unpublished job results failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void published(JobEvent event) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement u = c.prepareStatement(switch (event) {
                 case JobItemCompleted i -> "UPDATE job_items SET published = true WHERE job_id = ? AND item_index = ?";
                 case JobFinished f -> "UPDATE jobs SET finish_published = true WHERE id = ?";
             })) {
            u.setString(1, event.jobId());
            if (event instanceof JobItemCompleted i) u.setInt(2, i.index());
            u.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("marking a job result published failed: " + e.getMessage(), e);
        }
    }

    /**
     * Every transaction that changes a job and its items locks the job's row first, then items ({@link #cancel}
     * too): one lock order, so a cancel and an item's result arriving together wait for each other, never deadlock.
     */
    private static void lockJob(Connection c, String jobId) throws SQLException {
        try (PreparedStatement q = c.prepareStatement("SELECT 1 FROM jobs WHERE id = ? FOR UPDATE")) {
            q.setString(1, jobId);
            q.executeQuery().close();
        }
    }

    /** Work on one connection in one transaction: committed if it returns, rolled back if it throws. */
    @FunctionalInterface
    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T transaction(String what, Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException(what + " failed: " + e.getMessage(), e);
        }
    }

    private String write(JsonNode node) {
        try {
            return mapper.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private JsonNode read(String json) {
        if (json == null) return null;
        try {
            return mapper.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored JSON is not readable: " + e.getMessage(), e);
        }
    }
}
