package dev.jllm.session.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jllm.contracts.CompletionRequested;
import dev.jllm.contracts.FinishReason;
import dev.jllm.contracts.GenerationCancelled;
import dev.jllm.contracts.JobEvent;
import dev.jllm.contracts.JobFinished;
import dev.jllm.contracts.JobItemCompleted;
import dev.jllm.contracts.Priority;
import dev.jllm.contracts.RequestFailed;
import dev.jllm.contracts.TokenGenerated;
import dev.jllm.contracts.Topics;
import dev.jllm.contracts.Usage;
import dev.jllm.openai.JobRequestParser;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The job runner without Kafka or a database: an in-memory store and a pipeline that records what is sent.
 * The test plays the inference side by handing the runner generation events.
 */
class JobRunnerTest {
    static final ObjectMapper MAPPER = new ObjectMapper();
    static final Duration TIMEOUT = Duration.ofSeconds(60);
    static final Duration BACKOFF = Duration.ofSeconds(1);

    /** Items as the store keeps them. */
    static final class Item {
        final String jobId;
        final int index;
        final String body;
        String status = "pending";
        int attempts;
        long notBeforeNanos;
        String response, error;
        boolean published;

        Item(String jobId, int index, String body) {
            this.jobId = jobId;
            this.index = index;
            this.body = body;
        }
    }

    /** The store's contract (see JobStore) over maps, on the test's clock. */
    final class MemoryStore implements JobRunner.Store {
        final Map<String, List<Item>> jobs = new LinkedHashMap<>();
        final Map<String, String> status = new LinkedHashMap<>();
        final Set<String> finishPublished = new HashSet<>();

        void add(String jobId, String... bodies) {
            List<Item> items = new ArrayList<>();
            for (int i = 0; i < bodies.length; i++) items.add(new Item(jobId, i, bodies[i]));
            jobs.put(jobId, items);
            status.put(jobId, "queued");
        }

        Item item(String jobId, int index) {
            return jobs.get(jobId).get(index);
        }

        @Override
        public List<JobRunner.Pending> pending(int limit) {
            List<JobRunner.Pending> out = new ArrayList<>();
            for (var e : jobs.entrySet()) {
                if (!List.of("queued", "running").contains(status.get(e.getKey()))) continue;
                for (Item i : e.getValue()) {
                    if (out.size() < limit && i.status.equals("pending") && i.notBeforeNanos <= now) {
                        out.add(new JobRunner.Pending(i.jobId, i.index, null, "/v1/chat/completions", i.body, i.attempts));
                    }
                }
            }
            return out;
        }

        @Override
        public int startAttempt(String jobId, int index) {
            Item i = item(jobId, index);
            if (!i.status.equals("pending")) return 0;
            status.put(jobId, "running");
            return ++i.attempts;
        }

        @Override
        public boolean finish(String jobId, int index, String st, String response, String error) {
            Item i = item(jobId, index);
            if (!i.status.equals("pending")) return false;
            i.status = st;
            i.response = response;
            i.error = error;
            if (jobs.get(jobId).stream().noneMatch(x -> x.status.equals("pending"))) status.put(jobId, "completed");
            return true;
        }

        @Override
        public void retryAfter(String jobId, int index, Duration delay) {
            item(jobId, index).notBeforeNanos = now + delay.toNanos();
        }

        @Override
        public Set<String> inactive(Collection<String> jobIds) {
            Set<String> out = new HashSet<>();
            for (String id : jobIds) if (!List.of("queued", "running").contains(status.get(id))) out.add(id);
            return out;
        }

        @Override
        public List<JobEvent> unpublished(int limit) {
            List<JobEvent> out = new ArrayList<>();
            for (var e : jobs.entrySet()) {
                boolean allOut = true;
                int completed = 0, failed = 0;
                for (Item i : e.getValue()) {
                    if (i.status.equals("completed")) completed++;
                    if (i.status.equals("failed")) failed++;
                    if ((i.status.equals("completed") || i.status.equals("failed")) && !i.published) {
                        allOut = false;
                        out.add(new JobItemCompleted(i.jobId, i.index, null, i.status, null, null));
                    }
                }
                String st = status.get(e.getKey());
                if (allOut && !List.of("queued", "running").contains(st) && !finishPublished.contains(e.getKey())) {
                    out.add(new JobFinished(e.getKey(), st, e.getValue().size(), completed, failed, null));
                }
            }
            return out;
        }

        @Override
        public void published(JobEvent event) {
            switch (event) {
                case JobItemCompleted i -> item(i.jobId(), i.index()).published = true;
                case JobFinished f -> finishPublished.add(f.jobId());
            }
        }
    }

    /** Records every send; the broker acknowledges at once unless told to fail submissions. */
    static final class RecordingPipeline implements JobRunner.Pipeline {
        final List<CompletionRequested> submitted = new ArrayList<>();
        final List<GenerationCancelled> cancelled = new ArrayList<>();
        final List<JobEvent> published = new ArrayList<>();
        boolean failSubmissions;

        @Override
        public CompletionStage<Void> submit(CompletionRequested request) {
            submitted.add(request);
            return failSubmissions ? CompletableFuture.failedFuture(new IllegalStateException("broker down"))
                    : CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletionStage<Void> cancel(GenerationCancelled cancel) {
            cancelled.add(cancel);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletionStage<Void> publish(JobEvent event) {
            published.add(event);
            return CompletableFuture.completedFuture(null);
        }

        List<String> submittedIds() {
            return submitted.stream().map(CompletionRequested::requestId).toList();
        }

        List<String> cancelledIds() {
            return cancelled.stream().map(GenerationCancelled::requestId).toList();
        }
    }

    long now = 1_000_000_000L;
    final MemoryStore store = new MemoryStore();
    final RecordingPipeline pipeline = new RecordingPipeline();

    JobRunner runner(int maxInFlight, int maxAttempts) {
        var settings = new JobRunner.Settings(maxInFlight, TIMEOUT, maxAttempts, BACKOFF, Duration.ofSeconds(30), Duration.ofMillis(500));
        return new JobRunner(settings, store, pipeline, new JobRequestParser(MAPPER, null, 100), MAPPER, () -> now);
    }

    static String chat(String content) {
        return "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}],\"temperature\":0,\"max_tokens\":8}";
    }

    static TokenGenerated token(String requestId, int index, String text) {
        return new TokenGenerated(requestId, Topics.JOB_RUNNER_ID, index, 100 + index, text, null, null, null);
    }

    static TokenGenerated last(String requestId, int index, String text, int completionTokens) {
        return new TokenGenerated(requestId, Topics.JOB_RUNNER_ID, index, -1, text, null, FinishReason.STOP, new Usage(7, completionTokens, 0));
    }

    /** Hands events to the runner and lets it handle them (and whatever follows) in one turn. */
    void deliver(JobRunner r, Object... events) throws InterruptedException {
        for (Object e : events) r.offer((dev.jllm.contracts.GenerationEvent) e);
        turn(r);
    }

    void turn(JobRunner r) throws InterruptedException {
        r.runOnce(0);
        r.runOnce(0); // acknowledgements queued by the first turn
    }

    void advance(Duration d) {
        now += d.toNanos();
    }

    JsonNode json(String s) throws Exception {
        return MAPPER.readTree(s);
    }

    @Test
    void itemsAreSubmittedAtBatchPriorityAndTheirEventsBecomeTheResponse() throws Exception {
        store.add("j1", chat("a"), chat("b"));
        JobRunner r = runner(4, 3);
        turn(r);
        assertEquals(List.of("j1-0-1", "j1-1-1"), pipeline.submittedIds());
        CompletionRequested first = pipeline.submitted.getFirst();
        assertEquals(Priority.BATCH, first.priority());
        assertEquals(Topics.JOB_RUNNER_ID, first.gatewayId());
        assertEquals("j1-0-1", first.conversationKey());
        assertEquals("a", first.messages().getFirst().content());
        assertEquals(0.0, first.params().temperature());

        // a redelivered event (index 1 twice) is dropped; another gateway's events and unknown ids are ignored
        deliver(r, token("j1-0-1", 0, "Hel"), token("j1-0-1", 1, "lo"), token("j1-0-1", 1, "lo"),
                new TokenGenerated("j1-0-1", "gw-other", 2, 5, "XX", null, null, null), token("nope-0-1", 0, "YY"),
                last("j1-0-1", 2, " world", 2));
        Item done = store.item("j1", 0);
        assertEquals("completed", done.status);
        JsonNode response = json(done.response);
        assertEquals("chatcmpl-j1-0", response.get("id").asText());
        assertEquals("chat.completion", response.get("object").asText());
        assertEquals("m", response.get("model").asText());
        assertEquals("Hello world", response.at("/choices/0/message/content").asText());
        assertEquals("assistant", response.at("/choices/0/message/role").asText());
        assertEquals("stop", response.at("/choices/0/finish_reason").asText());
        assertEquals(7, response.at("/usage/prompt_tokens").asInt());
        assertEquals(2, response.at("/usage/completion_tokens").asInt());
        assertEquals("running", store.status.get("j1"));
        JobItemCompleted published = (JobItemCompleted) pipeline.published.getFirst();
        assertEquals("j1", published.jobId());
        assertEquals(0, published.index());
        assertEquals(JobItemCompleted.COMPLETED, published.status());
        assertEquals(response.toString(), published.response().toString(), "the stored and the published response are the same");
        assertTrue(done.published, "acknowledged results are marked published");

        deliver(r, last("j1-1-1", 0, "B", 1));
        assertEquals("completed", store.status.get("j1"));
        advance(Duration.ofSeconds(1)); // the outbox runs every poll interval
        turn(r);
        assertEquals(new JobFinished("j1", "completed", 2, 2, 0, null), pipeline.published.getLast());
        assertEquals(3, pipeline.published.size(), "two items and the finish, each once");
        assertTrue(pipeline.cancelled.isEmpty());
    }

    @Test
    void wakesCoalesceSoAReplicaThatDoesNotLeadQueuesNothingPerJob() throws Exception {
        JobRunner r = runner(2, 3);
        for (int i = 0; i < 10_000; i++) r.wake(); // every job stored on this replica wakes the runner, leading or not
        assertEquals(1, r.queued());
        store.add("w", chat("0"));
        turn(r);
        assertEquals(0, r.queued());
        assertEquals(List.of("w-0-1"), pipeline.submittedIds(), "the wake was handled");
        r.wake();
        assertEquals(1, r.queued(), "a wake after the last one was handled queues again");
    }

    @Test
    void atMostMaxInFlightItemsAreInThePipeline() throws Exception {
        store.add("big", chat("0"), chat("1"), chat("2"), chat("3"), chat("4"));
        JobRunner r = runner(2, 3);
        turn(r);
        assertEquals(List.of("big-0-1", "big-1-1"), pipeline.submittedIds());
        deliver(r, last("big-1-1", 0, "x", 1));
        assertEquals(List.of("big-0-1", "big-1-1", "big-2-1"), pipeline.submittedIds(), "a freed slot takes the next item");
        assertEquals(2, r.inFlight());
    }

    @Test
    void aLostEventCancelsTheAttemptAndTheItemIsRetriedUnderANewId() throws Exception {
        store.add("g", chat("a"));
        JobRunner r = runner(4, 3);
        turn(r);
        deliver(r, token("g-0-1", 0, "A"), token("g-0-1", 2, "C")); // index 1 never came
        assertEquals(List.of("g-0-1"), pipeline.cancelledIds());
        assertEquals(List.of("g-0-1"), pipeline.submittedIds(), "not before the back-off");
        advance(BACKOFF);
        turn(r);
        assertEquals(List.of("g-0-1", "g-0-2"), pipeline.submittedIds());
        // the old attempt's late events change nothing; the new one starts from index 0
        deliver(r, last("g-0-1", 1, "B", 2), token("g-0-2", 0, "A"), last("g-0-2", 1, "B", 2));
        assertEquals("AB", json(store.item("g", 0).response).at("/choices/0/message/content").asText());
    }

    @Test
    void retryableFailuresAreRetriedWithBackoffUntilTheAttemptsRunOut() throws Exception {
        store.add("f", chat("a"), chat("b"));
        JobRunner r = runner(4, 2);
        turn(r);
        deliver(r, new RequestFailed("f-0-1", Topics.JOB_RUNNER_ID, 429, "rate_limit_exceeded", "queue full", null, "queue_full"),
                new RequestFailed("f-1-1", Topics.JOB_RUNNER_ID, 400, "invalid_request_error", "too long", "messages", "context_length_exceeded"));
        Item bad = store.item("f", 1);
        assertEquals("failed", bad.status, "a 400 is the request's fault: no retry");
        JsonNode error = json(bad.error);
        assertEquals(400, error.get("status").asInt());
        assertEquals("context_length_exceeded", error.at("/error/code").asText());
        assertEquals("messages", error.at("/error/param").asText());

        advance(BACKOFF.dividedBy(2));
        turn(r);
        assertEquals(List.of("f-0-1", "f-1-1"), pipeline.submittedIds(), "still backing off");
        advance(BACKOFF);
        turn(r);
        assertEquals(List.of("f-0-1", "f-1-1", "f-0-2"), pipeline.submittedIds());
        deliver(r, new RequestFailed("f-0-2", Topics.JOB_RUNNER_ID, 503, "service_unavailable", "shutting down", null, null));
        Item gaveUp = store.item("f", 0);
        assertEquals("failed", gaveUp.status, "second attempt of two");
        assertEquals(503, json(gaveUp.error).get("status").asInt());
        assertEquals("completed", store.status.get("f"));
        advance(Duration.ofSeconds(1));
        turn(r);
        assertEquals(new JobFinished("f", "completed", 2, 0, 2, null), pipeline.published.getLast());
    }

    @Test
    void anItemWithoutEventsTimesOutAndIsResubmitted() throws Exception {
        store.add("t", chat("a"));
        JobRunner r = runner(4, 3);
        turn(r);
        deliver(r, token("t-0-1", 0, "A"));
        advance(TIMEOUT.minusSeconds(1));
        turn(r);
        assertTrue(pipeline.cancelled.isEmpty(), "progress resets the timer");
        advance(Duration.ofSeconds(2));
        turn(r);
        assertEquals(List.of("t-0-1"), pipeline.cancelledIds());
        advance(BACKOFF);
        turn(r);
        assertEquals(List.of("t-0-1", "t-0-2"), pipeline.submittedIds());
    }

    @Test
    void aFailedSendIsRetried() throws Exception {
        store.add("k", chat("a"));
        JobRunner r = runner(4, 3);
        pipeline.failSubmissions = true;
        turn(r);
        assertEquals(0, r.inFlight());
        pipeline.failSubmissions = false;
        advance(BACKOFF);
        turn(r);
        assertEquals(List.of("k-0-1", "k-0-2"), pipeline.submittedIds());
        assertEquals(1, r.inFlight());
    }

    @Test
    void aNewRunnerResumesUnfinishedItemsWithTheNextAttemptAndCancelsTheOldOne() throws Exception {
        store.add("res", chat("a"), chat("b"), chat("c"));
        JobRunner before = runner(4, 5);
        turn(before);
        deliver(before, last("res-0-1", 0, "done", 1));
        // the replica dies: a runner that starts now finds item 0 done and items 1, 2 with one attempt each
        pipeline.submitted.clear();
        JobRunner after = runner(4, 5);
        turn(after);
        assertEquals(List.of("res-1-2", "res-2-2"), pipeline.submittedIds());
        assertEquals(List.of("res-1-1", "res-2-1"), pipeline.cancelledIds());
        deliver(after, last("res-1-1", 0, "stale", 1)); // the old attempt: ignored
        assertEquals("pending", store.item("res", 1).status);
        deliver(after, last("res-1-2", 0, "b", 1), last("res-2-2", 0, "c", 1));
        assertEquals("completed", store.status.get("res"));
    }

    @Test
    void cancellingAJobTakesItsItemsOutOfThePipeline() throws Exception {
        store.add("c", chat("a"), chat("b"));
        JobRunner r = runner(4, 3);
        turn(r);
        store.status.put("c", "cancelled"); // DELETE on any replica
        for (Item i : store.jobs.get("c")) i.status = "cancelled";
        advance(Duration.ofSeconds(1));
        turn(r);
        assertEquals(List.of("c-0-1", "c-1-1"), pipeline.cancelledIds());
        assertEquals(0, r.inFlight());
        deliver(r, last("c-0-1", 0, "late", 1));
        assertNull(store.item("c", 0).response);
        advance(Duration.ofSeconds(1));
        turn(r);
        assertEquals(new JobFinished("c", "cancelled", 2, 0, 0, null), pipeline.published.getLast());
    }

    @Test
    void anItemThatIsNotAValidRequestFailsAlone() throws Exception {
        store.add("v", "{\"model\":\"m\",\"messages\":[]}", chat("ok"));
        JobRunner r = runner(4, 3);
        turn(r);
        Item bad = store.item("v", 0);
        assertEquals("failed", bad.status);
        assertEquals("body.messages", json(bad.error).at("/error/param").asText());
        assertEquals(List.of("v-1-1"), pipeline.submittedIds());
    }

    @Test
    void retryBackoffDoublesUpToItsCap() throws Exception {
        assertTrue(JobRunner.retryable(429));
        assertTrue(JobRunner.retryable(500));
        assertTrue(JobRunner.retryable(504));
        assertFalse(JobRunner.retryable(400));
        assertFalse(JobRunner.retryable(404));
        store.add("b", chat("a"));
        JobRunner r = runner(1, 10);
        long[] expectedSeconds = {1, 2, 4, 8};
        for (int attempt = 1; attempt <= expectedSeconds.length; attempt++) {
            turn(r);
            deliver(r, new RequestFailed("b-0-" + attempt, Topics.JOB_RUNNER_ID, 500, "server_error", "boom", null, null));
            long waited = store.item("b", 0).notBeforeNanos - now;
            assertEquals(TimeUnit.SECONDS.toNanos(expectedSeconds[attempt - 1]), waited, "after attempt " + attempt);
            now = store.item("b", 0).notBeforeNanos;
        }
    }
}
