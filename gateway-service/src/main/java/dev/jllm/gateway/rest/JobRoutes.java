package dev.jllm.gateway.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jllm.gateway.config.GatewayConfig;
import dev.jllm.gateway.service.SessionServiceClient;
import dev.jllm.gateway.service.SessionServiceClient.Reply;
import dev.jllm.openai.ApiError;
import dev.jllm.openai.JobRequestParser;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.time.Duration;

/**
 * Async jobs: {@code POST /v1/jobs} (one request {@code {"url","body"}} or {@code {"requests":[...]}}),
 * {@code GET /v1/jobs/{id}} (status, progress, results in item order), {@code DELETE /v1/jobs/{id}} (cancel) and
 * {@code GET /v1/jobs} (the caller's jobs, newest first). Items are checked here like direct requests (400/404 naming the item), then the job is stored by
 * session-service, whose runner sends the items through the pipeline at batch priority; the gateway only relays
 * its answers. A job belongs to the caller's API key ({@code X-Owner}: its SHA-256, '' without keys): another
 * key gets 404. Every call to session-service is non-blocking and has a deadline.
 */
@ApplicationScoped
public class JobRoutes {
    private static final Logger LOG = Logger.getLogger(JobRoutes.class);

    @Inject GatewayConfig config;
    @Inject ObjectMapper mapper;
    @Inject Vertx vertx;
    @Inject SessionServiceClient sessionService;

    /** Most requests in one job (session-service has the same limit, {@code JLLM_JOBS_MAX_ITEMS}). */
    @ConfigProperty(name = "jllm.jobs.max-items", defaultValue = "1000")
    int maxItems;

    /** Largest {@code POST /v1/jobs} body (413 above). */
    @ConfigProperty(name = "jllm.jobs.max-body-bytes", defaultValue = "16777216")
    int maxBodyBytes;

    /** Deadline of each call to session-service (storing a large job takes a moment). */
    @ConfigProperty(name = "jllm.jobs.timeout", defaultValue = "10s")
    Duration timeout;

    private JobRequestParser parser;

    void init(@Observes Router router) {
        parser = new JobRequestParser(mapper, config.models(), maxItems);
        BodyHandler body = BodyHandler.create(false).setBodyLimit(maxBodyBytes);
        router.post("/v1/jobs").handler(body).handler(this::submit).failureHandler(this::failure);
        router.get("/v1/jobs").handler(this::list);
        router.get("/v1/jobs/:id").handler(rc -> byId(rc, HttpMethod.GET));
        router.delete("/v1/jobs/:id").handler(rc -> byId(rc, HttpMethod.DELETE));
    }


    private void submit(RoutingContext rc) {
        Buffer body = rc.body().buffer() == null ? Buffer.buffer() : rc.body().buffer();
        // every item is checked as a direct request would be, so a bad one is a 400 now. A job body may be up to
        // 16 MiB and 1,000 items: parsing runs on a worker thread, never on the event loop, and comes back to it
        vertx.<Void>executeBlocking(() -> {
            parser.parse(body.getBytes());
            return null;
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                Routes.sendError(rc.response(), ar.cause() instanceof ApiError e ? e
                        : new ApiError(500, "server_error", "The job could not be read: " + ar.cause(), null, null));
                return;
            }
            relay(rc, call(HttpMethod.POST, "", rc.get("apiKey"), body), "submit a job");
        });
    }

    /** {@code GET /v1/jobs?limit=20&after=<id>}: the caller's jobs, newest first, without their results. */
    private void list(RoutingContext rc) {
        String limit = rc.queryParams().get("limit");
        String after = rc.queryParams().get("after");
        if (limit != null && !limit.matches("[0-9]{1,3}")) {
            Routes.sendError(rc.response(), ApiError.invalid("limit must be between 1 and 100.", "limit"));
            return;
        }
        if (after != null && !JobRequestParser.JOB_ID.matcher(after).matches()) {
            Routes.sendError(rc.response(), ApiError.invalid("after must be a job id.", "after"));
            return;
        }
        String query = "?limit=" + (limit == null ? "20" : limit) + (after == null ? "" : "&after=" + after);
        relay(rc, call(HttpMethod.GET, query, rc.get("apiKey"), null), "list jobs");
    }

    private void byId(RoutingContext rc, HttpMethod method) {
        String id = rc.pathParam("id");
        if (id == null || !JobRequestParser.JOB_ID.matcher(id).matches()) {
            Routes.sendError(rc.response(), new ApiError(404, "invalid_request_error", "No job found with id '" + id + "'.", "job_id",
                    "job_not_found"));
            return;
        }
        relay(rc, call(method, "/" + id, rc.get("apiKey"), null), method == HttpMethod.GET ? "read a job" : "cancel a job");
    }

    /** {@code METHOD <session-service>/internal/v1/jobs<suffix>} for the caller's key, with a deadline. */
    private Future<Reply> call(HttpMethod method, String suffix, String apiKey, Buffer body) {
        return sessionService.request(method, "/internal/v1/jobs" + suffix, SessionRoutes.owner(apiKey), body, timeout.toMillis());
    }

    /** session-service's answer as it is (a job object or an OpenAI error); 503 if it did not answer in time. */
    private void relay(RoutingContext rc, Future<Reply> reply, String what) {
        reply.onComplete(ar -> {
            if (rc.response().ended() || rc.response().closed()) return;
            if (ar.failed()) {
                LOG.warnf("session-service did not answer (%s): %s", what, ar.cause().toString());
                Routes.sendError(rc.response(), new ApiError(503, "service_unavailable", "Jobs are unavailable right now; retry shortly.",
                        null, "job_service_unavailable"));
                return;
            }
            Reply r = ar.result();
            if (r.status() >= 500 || r.status() == 401) { // 401: the services disagree on the shared secret
                LOG.warnf("session-service answered %d (%s): %s", r.status(), what, r.body());
                Routes.sendError(rc.response(), new ApiError(502, "server_error", "session-service failed (" + r.status() + ").", null,
                        "job_service_error"));
                return;
            }
            rc.response().setStatusCode(r.status()).putHeader("Content-Type", "application/json").end(r.body());
        });
    }

    private void failure(RoutingContext rc) {
        Routes.bodyFailure(rc, "The job is larger than " + maxBodyBytes + " bytes.");
    }
}
