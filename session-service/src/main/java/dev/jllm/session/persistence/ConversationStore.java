package dev.jllm.session.persistence;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.jllm.contracts.ChatMessage;
import dev.jllm.contracts.Json;
import dev.jllm.session.service.Conversations;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;

/**
 * Sessions as their owner sees them, and their conversations (column {@code messages}, JSONB, migration V2).
 * An {@code owner} argument of null means "any owner" (the inference side); otherwise a session of another
 * owner is treated as absent, so a caller cannot even learn that it exists.
 */
@ApplicationScoped
public class ConversationStore {
    private static final TypeReference<List<ChatMessage>> MESSAGES = new TypeReference<>() {};

    @Inject AgroalDataSource dataSource;

    /** A session as stored. */
    public record Session(String id, String owner, String model, int tokenCount, List<ChatMessage> messages,
                          OffsetDateTime createdAt, OffsetDateTime lastUsedAt) {}

    public Optional<Session> find(String id, String owner) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement q = c.prepareStatement("SELECT owner, model, token_count, messages::text, created_at, last_used_at "
                     + "FROM sessions WHERE id = ?")) {
            q.setString(1, id);
            try (ResultSet rs = q.executeQuery()) {
                if (!rs.next() || !visible(rs.getString(1), owner)) return Optional.empty();
                return Optional.of(new Session(id, rs.getString(1), rs.getString(2), rs.getInt(3), parse(rs.getString(4)),
                        rs.getObject(5, OffsetDateTime.class), rs.getObject(6, OffsetDateTime.class)));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("reading session " + id + " failed: " + e.getMessage(), e);
        }
    }

    /** Deletes the session with its snapshot (ON DELETE CASCADE); false when absent or another owner's. */
    @Transactional
    public boolean delete(String id, String owner) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement d = c.prepareStatement(owner == null ? "DELETE FROM sessions WHERE id = ?"
                     : "DELETE FROM sessions WHERE id = ? AND owner = ?")) {
            d.setString(1, id);
            if (owner != null) d.setString(2, owner);
            return d.executeUpdate() > 0;
        } catch (SQLException e) {
            throw new IllegalStateException("deleting session " + id + " failed: " + e.getMessage(), e);
        }
    }

    /** What a chat turn with these messages continues (see {@link Conversations}); nothing stored: as given. */
    public Conversations.Resolution resolve(String id, List<ChatMessage> request) {
        List<ChatMessage> stored = find(id, null).map(Session::messages).orElse(List.of());
        return Conversations.resolve(stored, request);
    }

    /**
     * Records a finished turn: creates the session for {@code owner} if new (or claims one that only a parked
     * snapshot created, owner ''), and for a chat turn ({@code request} not null) stores the conversation it
     * continued followed by {@code reply}. Empty when the session belongs to another owner.
     */
    @Transactional
    public Optional<Session> recordTurn(String id, String owner, String model, List<ChatMessage> request, String reply, int tokenCount) {
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement ins = c.prepareStatement(
                    "INSERT INTO sessions (id, owner, model) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING")) {
                ins.setString(1, id);
                ins.setString(2, owner);
                ins.setString(3, model);
                ins.executeUpdate();
            }
            String storedOwner;
            List<ChatMessage> stored;
            OffsetDateTime created;
            try (PreparedStatement q = c.prepareStatement("SELECT owner, messages::text, created_at FROM sessions WHERE id = ? FOR UPDATE")) {
                q.setString(1, id);
                try (ResultSet rs = q.executeQuery()) {
                    if (!rs.next()) throw new IllegalStateException("session " + id + " vanished while its turn was recorded");
                    storedOwner = rs.getString(1);
                    stored = parse(rs.getString(2));
                    created = rs.getObject(3, OffsetDateTime.class);
                }
            }
            if (!storedOwner.isEmpty() && !storedOwner.equals(owner)) return Optional.empty();
            List<ChatMessage> after = request == null ? stored : Conversations.afterTurn(stored, request, reply == null ? "" : reply);
            try (PreparedStatement up = c.prepareStatement("UPDATE sessions SET owner = ?, model = ?, messages = ?::jsonb, "
                    + "token_count = GREATEST(?, 0), last_used_at = now() WHERE id = ?")) {
                up.setString(1, owner);
                up.setString(2, model);
                up.setString(3, new String(Json.write(after), java.nio.charset.StandardCharsets.UTF_8));
                up.setInt(4, tokenCount);
                up.setString(5, id);
                up.executeUpdate();
            }
            return Optional.of(new Session(id, owner, model, tokenCount, after, created, OffsetDateTime.now()));
        } catch (SQLException e) {
            throw new IllegalStateException("recording a turn of session " + id + " failed: " + e.getMessage(), e);
        }
    }

    private static boolean visible(String storedOwner, String owner) {
        return owner == null || storedOwner.equals(owner);
    }

    private static List<ChatMessage> parse(String json) {
        try {
            return Json.mapper().readValue(json, MESSAGES);
        } catch (IOException e) {
            throw new UncheckedIOException("a stored conversation is not valid JSON", e);
        }
    }
}
