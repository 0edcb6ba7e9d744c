package dev.jllm.session.rest;

import dev.jllm.openai.ApiError;
import dev.jllm.session.service.JobService;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * Jobs for the gateway (their public face: {@code /v1/jobs}). The body of a POST is the client's, as the
 * gateway received it; {@code X-Owner} (SHA-256 of the caller's API key; '' or absent without keys) owns the
 * job, and another owner gets 404. Errors are OpenAI's error objects with their status, which the gateway relays.
 * JDBC blocks: worker threads (non-reactive return types), never the event loop.
 */
@Path("/internal/v1/jobs")
@Produces(MediaType.APPLICATION_JSON)
public class JobResource {
    static final int MAX_LIMIT = 100;

    @Inject JobService jobs;

    @POST
    @Consumes(MediaType.WILDCARD)
    public Response submit(byte[] body, @HeaderParam("X-Owner") String owner) {
        try {
            return Response.status(201).entity(jobs.submit(body == null ? new byte[0] : body, owner(owner)).toString()).build();
        } catch (ApiError e) {
            return error(e);
        }
    }

    /** The owner's jobs, newest first; {@code after}: the last id of the previous page. */
    @GET
    public Response list(@HeaderParam("X-Owner") String owner, @QueryParam("limit") @DefaultValue("20") int limit,
                         @QueryParam("after") String after) {
        if (limit < 1 || limit > MAX_LIMIT) return error(ApiError.invalid("limit must be between 1 and " + MAX_LIMIT + ".", "limit"));
        return Response.ok(jobs.list(owner(owner), limit, after).toString()).build();
    }

    @GET
    @Path("/{id}")
    public Response get(@PathParam("id") String id, @HeaderParam("X-Owner") String owner) {
        return jobs.find(id, owner(owner)).map(j -> Response.ok(j.toString()).build()).orElseGet(() -> notFound(id));
    }

    @DELETE
    @Path("/{id}")
    public Response cancel(@PathParam("id") String id, @HeaderParam("X-Owner") String owner) {
        return jobs.cancel(id, owner(owner)).map(j -> Response.ok(j.toString()).build()).orElseGet(() -> notFound(id));
    }

    /** An empty header may arrive as none: both are the owner '' (API keys off). */
    private static String owner(String header) {
        return header == null ? "" : header;
    }

    private static Response error(ApiError e) {
        return Response.status(e.status).entity(e.toJson().toString()).build();
    }

    static Response notFound(String id) {
        return error(new ApiError(404, "invalid_request_error", "No job found with id '" + id + "'.", "job_id", "job_not_found"));
    }
}
