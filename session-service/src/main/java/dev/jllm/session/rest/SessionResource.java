package dev.jllm.session.rest;

import dev.jllm.session.persistence.SessionEntity;
import jakarta.transaction.Transactional;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.Map;

/**
 * Sessions as users see them. JDBC is blocking: these endpoints run on worker threads (Quarkus REST puts
 * methods with a non-reactive return type there), never on the event loop.
 */
@Path("/v1/sessions")
@Produces(MediaType.APPLICATION_JSON)
public class SessionResource {

    @GET
    @Path("/{id}")
    public Response get(@PathParam("id") String id) {
        SessionEntity s = SessionEntity.findById(id);
        if (s == null) return notFound(id);
        return Response.ok(Map.of(
                "id", s.id, "object", "session", "model", s.model, "token_count", s.tokenCount,
                "created_at", s.createdAt.toEpochSecond(), "last_used_at", s.lastUsedAt.toEpochSecond())).build();
    }

    @DELETE
    @Path("/{id}")
    @Transactional
    public Response delete(@PathParam("id") String id) {
        if (!SessionEntity.deleteById(id)) return notFound(id);
        return Response.ok(Map.of("id", id, "object", "session.deleted", "deleted", true)).build();
    }

    static Response notFound(String id) {
        return Response.status(404).entity(Map.of("error", Map.of(
                "message", "No session found with id '" + id + "'.", "type", "invalid_request_error",
                "param", "session_id", "code", "session_not_found"))).build();
    }
}
