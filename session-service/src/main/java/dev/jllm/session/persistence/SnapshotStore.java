package dev.jllm.session.persistence;

import dev.jllm.session.config.SessionConfig;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Parked KV snapshots, stored as chunks of {@code chunk-bytes} with a SHA-256 over the whole. Bytes stream in
 * and out one chunk at a time (plain JDBC in the caller's JTA transaction): a snapshot is never held in the heap
 * whole, let alone twice.
 */
@ApplicationScoped
public class SnapshotStore {

    /** What is stored about a snapshot besides its bytes. */
    public record Meta(long totalBytes, int chunkCount, String sha256, int tokenCount, String format) {}

    @Inject AgroalDataSource dataSource;
    @Inject SessionConfig config;

    /**
     * Replaces the session's snapshot with the bytes of {@code in} (creating the session row if needed), in one
     * transaction: a reader sees the old snapshot or the new one, never a mix.
     */
    @Transactional
    public Meta put(String sessionId, String owner, String model, int tokenCount, String format, InputStream in) {
        MessageDigest sha = sha256();
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement up = c.prepareStatement(
                    "INSERT INTO sessions (id, owner, model, token_count) VALUES (?, ?, ?, ?) "
                            + "ON CONFLICT (id) DO UPDATE SET last_used_at = now(), token_count = EXCLUDED.token_count")) {
                up.setString(1, sessionId);
                up.setString(2, owner);
                up.setString(3, model);
                up.setInt(4, tokenCount);
                up.executeUpdate();
            }
            exec(c, "DELETE FROM kv_snapshots WHERE session_id = ?", sessionId);
            try (PreparedStatement meta = c.prepareStatement(
                    "INSERT INTO kv_snapshots (session_id, total_bytes, chunk_count, sha256, token_count, format) VALUES (?, 0, 0, '', ?, ?)")) {
                meta.setString(1, sessionId);
                meta.setInt(2, tokenCount);
                meta.setString(3, format);
                meta.executeUpdate();
            }
            long total = 0;
            int chunks = 0;
            byte[] buf = new byte[config.chunkBytes()];
            try (PreparedStatement ins = c.prepareStatement(
                    "INSERT INTO kv_snapshot_chunks (session_id, chunk_index, data) VALUES (?, ?, ?)")) {
                int n;
                while ((n = in.readNBytes(buf, 0, buf.length)) > 0) {
                    sha.update(buf, 0, n);
                    ins.setString(1, sessionId);
                    ins.setInt(2, chunks++);
                    ins.setBytes(3, n == buf.length ? buf : java.util.Arrays.copyOf(buf, n));
                    ins.executeUpdate();
                    total += n;
                }
            }
            String digest = HexFormat.of().formatHex(sha.digest());
            try (PreparedStatement fin = c.prepareStatement(
                    "UPDATE kv_snapshots SET total_bytes = ?, chunk_count = ?, sha256 = ? WHERE session_id = ?")) {
                fin.setLong(1, total);
                fin.setInt(2, chunks);
                fin.setString(3, digest);
                fin.setString(4, sessionId);
                fin.executeUpdate();
            }
            return new Meta(total, chunks, digest, tokenCount, format);
        } catch (SQLException e) {
            throw new IllegalStateException("storing the snapshot of " + sessionId + " failed: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("reading the snapshot of " + sessionId + " failed", e);
        }
    }

    public Optional<Meta> meta(String sessionId) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement q = c.prepareStatement(
                     "SELECT total_bytes, chunk_count, sha256, token_count, format FROM kv_snapshots WHERE session_id = ?")) {
            q.setString(1, sessionId);
            try (ResultSet rs = q.executeQuery()) {
                if (!rs.next()) return Optional.empty();
                return Optional.of(new Meta(rs.getLong(1), rs.getInt(2), rs.getString(3).trim(), rs.getInt(4), rs.getString(5)));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes the snapshot's chunks in order to {@code out}, one chunk in memory at a time. The bytes are sent as
     * stored; the reader checks them against {@link Meta#sha256()} (a corrupt snapshot is rebuilt from history).
     */
    public void copyTo(String sessionId, int chunkCount, OutputStream out) throws IOException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement q = c.prepareStatement(
                     "SELECT data FROM kv_snapshot_chunks WHERE session_id = ? AND chunk_index = ?")) {
            for (int i = 0; i < chunkCount; i++) {
                q.setString(1, sessionId);
                q.setInt(2, i);
                try (ResultSet rs = q.executeQuery()) {
                    if (!rs.next()) throw new IOException("chunk " + i + " of the snapshot of " + sessionId + " is missing");
                    out.write(rs.getBytes(1));
                }
            }
        } catch (SQLException e) {
            throw new IOException("reading the snapshot of " + sessionId + " failed: " + e.getMessage(), e);
        }
    }

    @Transactional
    public boolean delete(String sessionId) {
        try (Connection c = dataSource.getConnection()) {
            return exec(c, "DELETE FROM kv_snapshots WHERE session_id = ?", sessionId) > 0;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int exec(Connection c, String sql, String id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, id);
            return s.executeUpdate();
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
