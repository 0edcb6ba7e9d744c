package dev.jllm.session.rest;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.jllm.contracts.ChatMessage;
import dev.jllm.session.persistence.ConversationStore;
import dev.jllm.session.service.Conversations;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sessions for the other services (gateway-service is their only public face: it scopes ids by API key and
 * serves {@code GET/DELETE /v1/sessions/{id}} through these). {@code X-Owner} (the SHA-256 of the caller's API
 * key, '' without keys) makes another owner's session look absent: 404. JDBC is blocking: these endpoints run
 * on worker threads (a non-reactive return type), never on the event loop.
 */
@Path("/internal/v1/sessions/{id}")
@Produces(MediaType.APPLICATION_JSON)
public class SessionResource {
    @Inject ConversationStore store;

    /** A finished turn: the request's messages (null for a legacy completion) and the model's reply. */
    public record Turn(String owner, String model, List<ChatMessage> messages, String reply,
                       @JsonProperty("token_count") Integer tokenCount) {}

    /** The messages of a chat request that names this session. */
    public record Messages(List<ChatMessage> messages) {}

    @GET
    public Response get(@PathParam("id") String id, @HeaderParam("X-Owner") String owner) {
        return store.find(id, owner).map(s -> Response.ok(view(s)).build()).orElseGet(() -> notFound(id));
    }

    @DELETE
    public Response delete(@PathParam("id") String id, @HeaderParam("X-Owner") String owner) {
        if (!store.delete(id, owner)) return notFound(id);
        return Response.ok(Map.of("id", id, "object", "session.deleted", "deleted", true)).build();
    }

    /** Records a finished turn (creating the session for its owner); 404 if it belongs to another owner. */
    @PUT
    @Path("/turn")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response turn(@PathParam("id") String id, Turn turn) {
        if (turn == null || turn.owner() == null) return bad("owner is required ('' without API keys)", "owner");
        if (turn.model() == null || turn.model().isBlank()) return bad("model is required", "model");
        if (turn.messages() != null && turn.reply() == null) return bad("a chat turn needs its reply", "reply");
        if (turn.messages() != null && turn.messages().stream().anyMatch(m -> m == null || m.role() == null || m.content() == null)) {
            return bad("every message needs a role and a content", "messages");
        }
        int tokens = turn.tokenCount() == null ? 0 : turn.tokenCount();
        return store.recordTurn(id, turn.owner(), turn.model(), turn.messages(), turn.reply(), tokens)
                .map(s -> Response.ok(view(s)).build()).orElseGet(() -> notFound(id));
    }

    /**
     * The conversation a chat turn continues ({@link Conversations}: whole history, new messages only, or a
     * rewritten history); an unknown session continues nothing.
     */
    @POST
    @Path("/conversation")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response resolve(@PathParam("id") String id, Messages request) {
        if (request == null || request.messages() == null || request.messages().isEmpty()) return bad("messages are required", "messages");
        Conversations.Resolution r = store.resolve(id, request.messages());
        return Response.ok(Map.of("mode", r.mode().wire, "messages", r.messages())).build();
    }

    private static Map<String, Object> view(ConversationStore.Session s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", s.id());
        m.put("object", "session");
        m.put("model", s.model());
        m.put("token_count", s.tokenCount());
        m.put("messages", s.messages());
        m.put("created_at", s.createdAt().toEpochSecond());
        m.put("last_used_at", s.lastUsedAt().toEpochSecond());
        return m;
    }

    static Response notFound(String id) {
        return Response.status(404).type(MediaType.APPLICATION_JSON).entity(Map.of("error", Map.of(
                "message", "No session found with id '" + id + "'.", "type", "invalid_request_error",
                "param", "session_id", "code", "session_not_found"))).build();
    }

    static Response bad(String message, String param) {
        return Response.status(400).type(MediaType.APPLICATION_JSON).entity(Map.of("error", Map.of(
                "message", message, "type", "invalid_request_error", "param", param))).build();
    }
}
