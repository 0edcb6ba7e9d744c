package dev.jllm.session.rest;

import dev.jllm.session.persistence.SnapshotStore;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;

import java.io.InputStream;
import java.util.Map;

/**
 * The inference side's API for parked KV caches: {@code PUT} streams a snapshot in, {@code GET} streams it out
 * with its SHA-256 in {@code X-Snapshot-Sha256} (the reader verifies; a mismatch means rebuild from history).
 * Blocking I/O: worker threads, never the event loop.
 */
@Path("/internal/v1/sessions/{id}/snapshot")
public class SnapshotResource {
    @Inject SnapshotStore store;

    @PUT
    @Consumes(MediaType.APPLICATION_OCTET_STREAM)
    public Response put(@PathParam("id") String id, @HeaderParam("X-Model") String model,
                        @HeaderParam("X-Owner") @DefaultValue("") String owner,
                        @HeaderParam("X-Token-Count") @DefaultValue("-1") int tokenCount,
                        @HeaderParam("X-Snapshot-Format") @DefaultValue("jllm-kv") String format, InputStream body) {
        if (model == null || model.isBlank()) return SessionResource.bad("X-Model is required", "X-Model");
        if (tokenCount < 0) return SessionResource.bad("X-Token-Count (tokens the snapshot holds) is required", "X-Token-Count");
        SnapshotStore.Meta m = store.put(id, owner, model, tokenCount, format, body);
        return Response.ok(Map.of("session_id", id, "bytes", m.totalBytes(), "chunks", m.chunkCount(), "sha256", m.sha256()))
                .type(MediaType.APPLICATION_JSON).build();
    }

    @GET
    public Response get(@PathParam("id") String id) {
        return store.meta(id)
                .map(m -> Response.ok((StreamingOutput) out -> store.copyTo(id, m.chunkCount(), out), MediaType.APPLICATION_OCTET_STREAM)
                        .header("X-Snapshot-Sha256", m.sha256())
                        .header("X-Token-Count", m.tokenCount())
                        .header("X-Snapshot-Format", m.format())
                        .header("Content-Length", m.totalBytes())
                        .build())
                .orElseGet(() -> SessionResource.notFound(id));
    }

    @DELETE
    public Response delete(@PathParam("id") String id) {
        return store.delete(id) ? Response.noContent().build() : SessionResource.notFound(id);
    }
}
