package dev.jllm.session.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jllm.contracts.CompletionRequested;
import dev.jllm.contracts.GenerationCancelled;
import dev.jllm.contracts.GenerationEvent;
import dev.jllm.contracts.JobEvent;
import dev.jllm.contracts.JobFinished;
import dev.jllm.contracts.JobItem;
import dev.jllm.contracts.JobItemCompleted;
import dev.jllm.contracts.RequestFailed;
import dev.jllm.contracts.TokenGenerated;
import dev.jllm.contracts.Topics;
import dev.jllm.openai.ApiError;
import dev.jllm.openai.JobRequestParser;
import dev.jllm.openai.ParsedRequest;

import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Runs job items through the pipeline, a bounded number at a time, on ONE thread (the caller of
 * {@link #runOnce}); other threads only hand it generation events ({@link #offer}) and broker
 * acknowledgements (through its inbox), so its state needs no locks.
 *
 * <p>Each submission of an item is an attempt with its own request id {@code <job>-<index>-<attempt>} (the
 * inference side drops ids it has seen, so a retry must be a new id) at batch priority, addressed to
 * {@link Topics#JOB_RUNNER_ID} (its events come on job-generation-events). Its token events are put together in
 * index order; the last one stores the OpenAI response and publishes {@link JobItemCompleted}. A lost event (a
 * gap), a retryable failure (429, 5xx), or no event for {@code itemTimeout} cancels the attempt and submits the
 * item again after a back-off; after {@code maxAttempts} the item fails with the last error. All state that must survive is in the {@link Store}:
 * a runner that starts (after a restart, or on another replica) resumes every unfinished item with a new
 * attempt, and results not yet acknowledged by the broker are published again (at least once).
 */
public final class JobRunner {
    private static final Logger LOG = Logger.getLogger(JobRunner.class);
    /** Generation events waiting for the runner beyond this are dropped (their items time out and retry). */
    static final int MAX_QUEUED_EVENTS = 65_536;

    public record Settings(int maxInFlight, Duration itemTimeout, int maxAttempts, Duration retryBackoff,
                           Duration retryBackoffMax, Duration pollInterval) {}

    /** An item that may be submitted: of a queued or running job, not finished, its back-off over. */
    public record Pending(String jobId, int index, String customId, String url, String body, int attempts) {}

    /** The database side of the runner (see {@code JobStore}). */
    public interface Store {
        /** Up to {@code limit} submittable items, oldest job first, in item order. */
        List<Pending> pending(int limit);

        /** Counts a new attempt of a pending item (and marks its job running); its number, or 0 if it is no longer pending. */
        int startAttempt(String jobId, int index);

        /**
         * Finishes a pending item ({@code completed} with a response, or {@code failed} with an error) and counts it in
         * its job, which completes with its last item. False if the item was not pending (cancelled, done before).
         */
        boolean finish(String jobId, int index, String status, String response, String error);

        /** The item may be submitted again after {@code delay}. */
        void retryAfter(String jobId, int index, Duration delay);

        /** Those of {@code jobIds} that are no longer queued or running (cancelled). */
        Set<String> inactive(Collection<String> jobIds);

        /** Results not yet acknowledged by Kafka: items first; a job's finish once all its items are out. */
        List<JobEvent> unpublished(int limit);

        /** Kafka acknowledged this result. */
        void published(JobEvent event);
    }

    /** The Kafka side: every send reports the broker's acknowledgement. */
    public interface Pipeline {
        CompletionStage<Void> submit(CompletionRequested request);

        CompletionStage<Void> cancel(GenerationCancelled cancel);

        CompletionStage<Void> publish(JobEvent event);
    }

    /** One submission of one item, with what has arrived of it. */
    private static final class Attempt {
        final Pending item;
        final int number;
        final String requestId;
        final ParsedRequest request;
        final ItemAccumulator events;
        long lastProgressNanos;

        Attempt(Pending item, int number, String requestId, ParsedRequest request, long now) {
            this.item = item;
            this.number = number;
            this.requestId = requestId;
            this.request = request;
            this.events = new ItemAccumulator(request);
            this.lastProgressNanos = now;
        }

        String itemKey() {
            return itemKey(item.jobId(), item.index());
        }

        static String itemKey(String jobId, int index) {
            return jobId + "#" + index;
        }
    }

    private final Settings settings;
    private final Store store;
    private final Pipeline pipeline;
    private final JobRequestParser parser;
    private final ObjectMapper mapper;
    private final LongSupplier nanoTime;

    /** Generation events (from the consumer thread) and completions of sends (from producer threads). */
    private final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
    private final java.util.concurrent.atomic.AtomicBoolean wakeQueued = new java.util.concurrent.atomic.AtomicBoolean();
    private final Runnable wakeUp = () -> {
        wakeQueued.set(false);
        dirty = true;
    };

    // --- owned by the runner thread ---
    private final Map<String, Attempt> inFlight = new HashMap<>();   // by request id
    private final Set<String> inFlightItems = new HashSet<>();       // job#index
    private final Set<String> publishing = new HashSet<>();          // results sent, not yet acknowledged
    private boolean dirty = true;                                    // a slot was freed or work was added
    private long lastPollNanos = Long.MIN_VALUE / 2;

    public JobRunner(Settings settings, Store store, Pipeline pipeline, JobRequestParser parser, ObjectMapper mapper,
                     LongSupplier nanoTime) {
        this.settings = settings;
        this.store = store;
        this.pipeline = pipeline;
        this.parser = parser;
        this.mapper = mapper;
        this.nanoTime = nanoTime;
    }

    /** From the consumer thread: an event of the pipeline; those not addressed to jobs are ignored. */
    public void offer(GenerationEvent event) {
        if (event == null || !Topics.JOB_RUNNER_ID.equals(event.gatewayId())) return;
        if (inbox.size() < MAX_QUEUED_EVENTS) inbox.offer(event);
    }

    /**
     * From any thread: new work was stored; look for it now rather than at the next poll. Wakes coalesce: at
     * most one waits in the inbox (a replica that does not lead never drains it, and takes jobs all the same).
     */
    public void wake() {
        if (wakeQueued.compareAndSet(false, true)) inbox.offer(wakeUp);
    }

    /** Messages waiting in the inbox (events, wakes, acknowledgements). */
    int queued() {
        return inbox.size();
    }

    /** Items in the pipeline now. */
    public int inFlight() {
        return inFlight.size();
    }

    /**
     * One turn of the runner thread: waits up to {@code waitMillis} for something to do, handles what arrived,
     * then times out stalled attempts, submits pending items into free slots, and (every poll interval) cancels
     * attempts of cancelled jobs and publishes unacknowledged results.
     */
    public void runOnce(long waitMillis) throws InterruptedException {
        Object first = inbox.poll(waitMillis, TimeUnit.MILLISECONDS);
        if (first != null) handle(first);
        for (int i = 0; i < 10_000; i++) {
            Object next = inbox.poll();
            if (next == null) break;
            handle(next);
        }
        long now = nanoTime.getAsLong();
        timeouts(now);
        boolean pollDue = now - lastPollNanos >= settings.pollInterval().toNanos();
        if (pollDue) {
            lastPollNanos = now;
            cancelInactive();
            publishOutbox();
        }
        if (dirty || pollDue) {
            dirty = false;
            fill(now);
        }
    }

    /** Leadership lost (or shutting down): forget what is in flight; whoever runs next resumes it from the store. */
    public void reset() {
        inFlight.clear();
        inFlightItems.clear();
        publishing.clear();
        inbox.clear();
        wakeQueued.set(false);
        dirty = true;
    }

    private void handle(Object o) {
        switch (o) {
            case GenerationEvent e -> onEvent(e);
            case Runnable r -> r.run();
            default -> throw new IllegalStateException("unexpected " + o);
        }
    }

    private void onEvent(GenerationEvent event) {
        Attempt a = inFlight.get(event.requestId());
        if (a == null) return; // an earlier attempt, or an item this runner does not hold
        a.lastProgressNanos = nanoTime.getAsLong();
        switch (event) {
            case RequestFailed f -> {
                ObjectNode error = error(f.status(), f.type(), f.message(), f.param(), f.code());
                if (retryable(f.status())) retry(a, error, false);
                else finish(a, JobItemCompleted.FAILED, null, error);
            }
            case TokenGenerated t -> {
                switch (a.events.accept(t)) {
                    case PROGRESS, DUPLICATE -> {}
                    case GAP -> retry(a, error(502, "server_error", "Token event " + a.events.received()
                            + " of the item's generation was lost.", null, "event_lost"), true);
                    case DONE -> finish(a, JobItemCompleted.COMPLETED,
                            a.events.response(responseId(a), a.request.request().createdAtMillis() / 1000), null);
                }
            }
        }
    }

    /** 429 (queue full), 408 and 5xx are worth another attempt; other errors are the request's own fault. */
    static boolean retryable(int status) {
        return status == 429 || status == 408 || status >= 500;
    }

    private static String responseId(Attempt a) {
        return (a.request.chat() ? "chatcmpl-" : "cmpl-") + a.item.jobId() + "-" + a.item.index();
    }

    private void timeouts(long now) {
        long limit = settings.itemTimeout().toNanos();
        List<Attempt> stalled = new ArrayList<>();
        for (Attempt a : inFlight.values()) if (now - a.lastProgressNanos > limit) stalled.add(a);
        for (Attempt a : stalled) {
            retry(a, error(504, "timeout", "No event for the item within " + settings.itemTimeout().toMillis() + " ms.", null,
                    "item_timeout"), true);
        }
    }

    /** Ends an attempt that will not finish; the item gets another one after a back-off, or fails. */
    private void retry(Attempt a, ObjectNode error, boolean cancel) {
        remove(a);
        if (cancel) pipeline.cancel(new GenerationCancelled(a.requestId, a.requestId, "job item retried"));
        String why = error.at("/error/message").asText();
        if (a.number >= settings.maxAttempts()) {
            LOG.warnf("job item %s/%d failed after %d attempts: %s", a.item.jobId(), a.item.index(), a.number, why);
            finish(a, JobItemCompleted.FAILED, null, error);
            return;
        }
        long backoff = Math.min(settings.retryBackoff().toMillis() << Math.min(a.number - 1, 20), settings.retryBackoffMax().toMillis());
        LOG.infof("job item %s/%d: attempt %d ended (%s); attempt %d in %d ms", a.item.jobId(), a.item.index(), a.number, why,
                a.number + 1, backoff);
        store.retryAfter(a.item.jobId(), a.item.index(), Duration.ofMillis(backoff));
    }

    private void finish(Attempt a, String status, ObjectNode response, ObjectNode error) {
        remove(a);
        finish(a.item, status, response, error);
    }

    private void finish(Pending item, String status, ObjectNode response, ObjectNode error) {
        if (!store.finish(item.jobId(), item.index(), status, json(response), json(error))) return; // cancelled meanwhile
        publish(new JobItemCompleted(item.jobId(), item.index(), item.customId(), status, response, error));
    }

    private void remove(Attempt a) {
        inFlight.remove(a.requestId);
        inFlightItems.remove(a.itemKey());
        dirty = true;
    }

    /** Submits pending items while slots are free. */
    private void fill(long now) {
        int free = settings.maxInFlight() - inFlight.size();
        if (free <= 0) return;
        for (Pending p : store.pending(free + inFlight.size())) {
            if (free == 0) break;
            if (inFlightItems.contains(Attempt.itemKey(p.jobId(), p.index()))) continue;
            if (start(p, now)) free--;
        }
    }

    private boolean start(Pending p, long now) {
        if (p.attempts() > 0) {
            // an attempt from before (a restart, another runner): it must not keep running next to the new one
            String previous = requestId(p.jobId(), p.index(), p.attempts());
            pipeline.cancel(new GenerationCancelled(previous, previous, "job item resubmitted"));
        }
        if (p.attempts() >= settings.maxAttempts()) {
            finish(p, JobItemCompleted.FAILED, null, error(504, "timeout",
                    "The item got no result in " + p.attempts() + " attempts.", null, "attempts_exhausted"));
            return false;
        }
        JobItem item;
        try {
            item = new JobItem(p.customId(), p.url(), p.body() == null ? null : mapper.readTree(p.body()));
        } catch (JsonProcessingException e) {
            finish(p, JobItemCompleted.FAILED, null, error(400, "invalid_request_error", "The item's body is not JSON.", "body", null));
            return false;
        }
        int number = store.startAttempt(p.jobId(), p.index());
        if (number == 0) return false;
        String requestId = requestId(p.jobId(), p.index(), number);
        ParsedRequest request;
        try {
            request = parser.toRequest(item, Topics.JOB_RUNNER_ID, requestId, System.currentTimeMillis(), "");
        } catch (ApiError e) {
            finish(p, JobItemCompleted.FAILED, null, error(e.status, e.type, e.getMessage(), e.param, e.code));
            return false;
        }
        Attempt a = new Attempt(p, number, requestId, request, now);
        inFlight.put(requestId, a);
        inFlightItems.add(a.itemKey());
        pipeline.submit(request.request()).whenComplete((ok, err) -> {
            if (err != null) inbox.offer((Runnable) () -> {
                if (inFlight.get(requestId) == a) {
                    retry(a, error(503, "service_unavailable", "The item could not be queued: " + err.getMessage(), null,
                            "kafka_unavailable"), false);
                }
            });
        });
        return true;
    }

    static String requestId(String jobId, int index, int attempt) {
        return jobId + "-" + index + "-" + attempt;
    }

    /** Attempts of jobs cancelled meanwhile (by any replica) leave the pipeline. */
    private void cancelInactive() {
        if (inFlight.isEmpty()) return;
        Set<String> jobs = new HashSet<>();
        for (Attempt a : inFlight.values()) jobs.add(a.item.jobId());
        Set<String> gone = store.inactive(jobs);
        if (gone.isEmpty()) return;
        for (Attempt a : List.copyOf(inFlight.values())) {
            if (!gone.contains(a.item.jobId())) continue;
            remove(a);
            pipeline.cancel(new GenerationCancelled(a.requestId, a.requestId, "job cancelled"));
        }
    }

    private void publishOutbox() {
        for (JobEvent e : store.unpublished(256)) {
            if (!publishing.contains(key(e))) publish(e);
        }
    }

    private void publish(JobEvent e) {
        String key = key(e);
        publishing.add(key);
        pipeline.publish(e).whenComplete((ok, err) -> inbox.offer((Runnable) () -> {
            publishing.remove(key);
            if (err == null) store.published(e);
        }));
    }

    private static String key(JobEvent e) {
        return switch (e) {
            case JobItemCompleted i -> Attempt.itemKey(i.jobId(), i.index());
            case JobFinished f -> f.jobId() + "#finished";
        };
    }

    private ObjectNode error(int status, String type, String message, String param, String code) {
        ObjectNode root = mapper.createObjectNode();
        root.put("status", status);
        root.set("error", ApiError.body(message, type, param, code).get("error"));
        return root;
    }

    private String json(JsonNode node) {
        if (node == null) return null;
        try {
            return mapper.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
