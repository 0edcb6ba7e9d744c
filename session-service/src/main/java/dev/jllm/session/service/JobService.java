package dev.jllm.session.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jllm.contracts.JobSubmitted;
import dev.jllm.openai.ApiError;
import dev.jllm.openai.JobRequestParser;
import dev.jllm.session.config.JobsConfig;
import dev.jllm.session.persistence.JobStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Jobs as clients see them, whichever way they came: over HTTP (through the gateway) or as a
 * {@code JobSubmitted} record. Both are checked by the same parser and stored the same way; the runner
 * (on whichever replica holds the lead) picks them up from the database.
 */
@ApplicationScoped
public class JobService {
    private static final Logger LOG = Logger.getLogger(JobService.class);

    @Inject JobStore store;
    @Inject JobsConfig config;
    @Inject JobRunnerService runner;

    /** An owner as the gateway writes it: the SHA-256 (hex) of an API key. */
    private static final java.util.regex.Pattern OWNER = java.util.regex.Pattern.compile("[0-9a-f]{64}");

    private final ObjectMapper mapper = new ObjectMapper();
    private JobRequestParser parser;

    JobRequestParser parser() {
        if (parser == null) parser = new JobRequestParser(mapper, config.models().orElse(null), config.maxItems());
        return parser;
    }

    /** A job posted over HTTP: checked (an ApiError names the bad item), stored as queued; its view. */
    public ObjectNode submit(byte[] body, String owner) {
        JobRequestParser.Parsed job = parser().parse(body);
        String id = "job_" + UUID.randomUUID().toString().replace("-", "");
        store.create(id, owner, job.items(), job.metadata(), null);
        runner.wake();
        return find(id, owner).orElseThrow();
    }

    /**
     * A job from Kafka: its id is the client's. A job that cannot be run at all (no or too many items, an owner
     * that is no SHA-256, an item that is no object or a custom id that cannot be stored) is stored as failed, so
     * its {@code JobFinished} tells the client why; a bad request body fails alone when its item's turn comes.
     */
    public void submitFromKafka(JobSubmitted s) {
        if (s.jobId() == null || !JobRequestParser.JOB_ID.matcher(s.jobId()).matches()) {
            throw new IllegalArgumentException("job id must be 1 to 64 characters of [A-Za-z0-9._:-], not '.' or '..'; got " + s.jobId());
        }
        List<dev.jllm.contracts.JobItem> items = s.items() == null ? List.of() : s.items();
        String failure = null;
        try {
            parser().checkCount(items.size());
        } catch (ApiError e) {
            failure = e.getMessage();
        }
        String owner = s.owner() == null ? "" : s.owner();
        if (!owner.isEmpty() && !OWNER.matcher(owner).matches()) {
            failure = "owner must be the SHA-256 of an API key (64 lowercase hex digits), or absent.";
            owner = "";
        }
        for (int i = 0; failure == null && i < items.size(); i++) {
            String customId = items.get(i) == null ? null : items.get(i).customId();
            if (items.get(i) == null) failure = "requests[" + i + "] must be an object.";
            else if (customId != null && !JobRequestParser.validCustomId(customId)) {
                failure = "requests[" + i + "].custom_id must be a string of 1 to 256 characters, none a control character.";
            }
        }
        if (store.create(s.jobId(), owner, failure == null ? items : List.of(), s.metadata(), failure)) {
            LOG.infof("job %s submitted over Kafka: %d items%s", s.jobId(), items.size(), failure == null ? "" : " (refused: " + failure + ")");
            runner.wake();
        }
    }

    /** Cancels a job (owner null: any); the view after it, or empty if there is no such job for this owner. */
    public Optional<ObjectNode> cancel(String id, String owner) {
        if (!store.cancel(id, owner)) return Optional.empty();
        return find(id, owner);
    }

    public Optional<ObjectNode> find(String id, String owner) {
        return store.find(id, owner).map(this::view);
    }

    /** A page of the owner's jobs, newest first, without results: {@code {"object":"list","data":[...],"has_more"}}. */
    public ObjectNode list(String owner, int limit, String after) {
        List<JobStore.JobView> jobs = store.list(owner, limit + 1, after);
        ObjectNode o = mapper.createObjectNode();
        o.put("object", "list");
        ArrayNode data = o.putArray("data");
        for (JobStore.JobView j : jobs.subList(0, Math.min(limit, jobs.size()))) data.add(view(j));
        o.put("has_more", jobs.size() > limit);
        return o;
    }

    /** The job object of the API: status, progress, and results in item order (none in a list). */
    ObjectNode view(JobStore.JobView j) {
        ObjectNode o = mapper.createObjectNode();
        o.put("id", j.id());
        o.put("object", "job");
        o.put("status", j.status());
        ObjectNode progress = o.putObject("progress");
        progress.put("done", j.completed() + j.failed());
        progress.put("total", j.total());
        progress.put("completed", j.completed());
        progress.put("failed", j.failed());
        o.put("created_at", j.createdAt().toEpochSecond());
        putTime(o, "started_at", j.startedAt());
        putTime(o, "finished_at", j.finishedAt());
        if (j.message() != null) o.put("message", j.message());
        if (j.metadata() != null) o.set("metadata", read(j.metadata()));
        else o.putNull("metadata");
        if (j.items() == null) return o;
        ArrayNode results = o.putArray("results");
        for (JobStore.ItemView i : j.items()) {
            ObjectNode r = results.addObject();
            r.put("index", i.index());
            if (i.customId() != null) r.put("custom_id", i.customId());
            r.put("status", i.status());
            if (i.response() != null) r.set("response", read(i.response()));
            if (i.error() != null) r.set("error", read(i.error()));
        }
        return o;
    }

    private static void putTime(ObjectNode o, String field, OffsetDateTime t) {
        if (t == null) o.putNull(field); else o.put(field, t.toEpochSecond());
    }

    private JsonNode read(String json) {
        try {
            return mapper.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
