package dev.jllm.batching;

import dev.jllm.contracts.FinishReason;
import dev.jllm.contracts.GenerationCancelled;
import dev.jllm.contracts.GenerationEvent;
import dev.jllm.contracts.Priority;
import dev.jllm.contracts.PromptTokenized;
import dev.jllm.contracts.RequestFailed;
import dev.jllm.contracts.SamplingParams;
import dev.jllm.contracts.TokenGenerated;
import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.Models;
import dev.jllm.engine.kv.KvCache;
import dev.jllm.engine.kv.KvCacheOptions;

import dev.jllm.tokenizer.Tokenizer;
import dev.jllm.tokenizer.Tokenizers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The continuous-batching scheduler on the real stories260K model, without Kafka: what it streams must equal
 * the engine run on each prompt alone, whatever the batching, chunking and arrival order.
 */
class SchedulerTest {
    static LanguageModel model;
    static Tokenizer tokenizer;
    static final Path MODEL = Path.of(System.getProperty("jllm.shared.dir", "../../shared"), "models/stories260K/stories260K.gguf");
    static final long WAIT_MS = 60_000;

    @BeforeAll
    static void load() throws Exception {
        model = Models.load(MODEL);
        tokenizer = Tokenizers.fromGguf(MODEL);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** Collects events per request. */
    static final class Sink implements GenerationSink {
        final ConcurrentHashMap<String, List<GenerationEvent>> byRequest = new ConcurrentHashMap<>();
        final List<String> dropped = new CopyOnWriteArrayList<>();

        @Override
        public void emit(GenerationEvent e) {
            byRequest.computeIfAbsent(e.requestId(), k -> new CopyOnWriteArrayList<>()).add(e);
        }

        @Override
        public void dropped(String requestId) {
            dropped.add(requestId);
        }

        boolean finished(String id) {
            List<GenerationEvent> l = byRequest.get(id);
            if (l == null || l.isEmpty()) return false;
            GenerationEvent last = l.getLast();
            return last instanceof RequestFailed || ((TokenGenerated) last).isLast();
        }

        void await(List<String> ids) throws InterruptedException {
            long deadline = System.currentTimeMillis() + WAIT_MS;
            while (!ids.stream().allMatch(this::finished)) {
                if (System.currentTimeMillis() > deadline) fail("not finished in time: " + byRequest.keySet());
                Thread.sleep(5);
            }
        }

        List<Integer> ids(String id) {
            return byRequest.get(id).stream().map(e -> ((TokenGenerated) e).tokenId()).filter(t -> t >= 0).toList();
        }
    }

    static Scheduler scheduler(Sink sink, int maxRunning, int maxQueued, int prefillPerStep) {
        return new Scheduler(model, tokenizer, sink, new Scheduler.Limits(maxRunning, maxQueued, 1L << 30, prefillPerStep,
                KvCacheOptions.DEFAULT, 1000)).start();
    }

    static PromptTokenized request(String id, String prompt, int maxTokens) {
        return new PromptTokenized(id, "gw", id, null, "m", tokenizer.encode(prompt, true, false),
                dev.jllm.contracts.SamplingParams.greedy(maxTokens), List.of(), Priority.INTERACTIVE, 0);
    }

    /** Greedy ids of the engine alone. */
    static List<Integer> alone(String prompt, int maxTokens) {
        KvCache cache = model.newCache();
        float[] logits = model.forward(cache, tokenizer.encode(prompt, true, false));
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < maxTokens; i++) {
            int best = 0;
            for (int v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
            if (tokenizer.isEog(best)) break;
            out.add(best);
            logits = model.forward(cache, best);
        }
        return out;
    }

    @Test
    void batchedAndChunkedGenerationEqualsEachPromptAlone() throws Exception {
        List<String> prompts = List.of("Once upon a time", "The cat sat", "Lily was a little girl who loved to play",
                "Tom", "One day, the sun", "A big dog and a small cat were friends", "Sam", "The park was");
        Sink sink = new Sink();
        // prefill budget 7 tokens per step: prompts are split across steps and interleave with decoding
        try (Scheduler s = scheduler(sink, 5, 64, 7)) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                ids.add("r" + i);
                s.submit(request("r" + i, prompts.get(i), 20 + i));
                if (i == 3) Thread.sleep(20); // later arrivals join a running batch
            }
            sink.await(ids);
        }
        for (int i = 0; i < prompts.size(); i++) {
            assertEquals(alone(prompts.get(i), 20 + i), sink.ids("r" + i), "prompt " + prompts.get(i));
            List<GenerationEvent> events = sink.byRequest.get("r" + i);
            for (int j = 0; j < events.size(); j++) assertEquals(j, ((TokenGenerated) events.get(j)).index(), "event indexes count up");
            TokenGenerated last = (TokenGenerated) events.getLast();
            assertEquals(sink.ids("r" + i).size(), last.usage().completionTokens());
            assertEquals(tokenizer.encode(prompts.get(i), true, false).length, last.usage().promptTokens());
        }
    }

    static PromptTokenized turn(String id, String session, int[] promptIds, int maxTokens) {
        return new PromptTokenized(id, "gw", session, session, "m", promptIds, SamplingParams.greedy(maxTokens), List.of(),
                Priority.INTERACTIVE, 0);
    }

    static int[] concat(int[] a, List<Integer> b, int[] c) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.size() + c.length);
        for (int i = 0; i < b.size(); i++) out[a.length + i] = b.get(i);
        System.arraycopy(c, 0, out, a.length + b.size(), c.length);
        return out;
    }

    @Test
    void aSessionsNextTurnReusesItsCacheAndAnswersAsAStatelessRequestWould() throws Exception {
        Sink sink = new Sink();
        int[] p1 = tokenizer.encode("Once upon a time", true, false);
        try (Scheduler s = new Scheduler(model, tokenizer, sink, new Scheduler.Limits(4, 16, 1L << 30, 512,
                KvCacheOptions.DEFAULT, 1000, 64L << 20)).start()) {
            s.submit(turn("t1", "s1", p1, 12));
            sink.await(List.of("t1"));
            List<Integer> g1 = sink.ids("t1");
            assertEquals(0, ((TokenGenerated) sink.byRequest.get("t1").getLast()).usage().cachedTokens());

            // turn 2 sends the whole history plus new text: all but the last generated token (never fed) is reused
            int[] p2 = concat(p1, g1, tokenizer.encode(" The dog was happy.", false, false));
            s.submit(turn("t2", "s1", p2, 10));
            s.submit(turn("t2-stateless", null, p2, 10));
            sink.await(List.of("t2", "t2-stateless"));
            assertEquals(p1.length + g1.size() - 1, ((TokenGenerated) sink.byRequest.get("t2").getLast()).usage().cachedTokens());
            assertEquals(sink.ids("t2-stateless"), sink.ids("t2"));
            assertEquals(text(sink, "t2-stateless"), text(sink, "t2"));
            assertEquals(1, s.stats().sessions());

            // turn 3 diverges after three tokens: only that prefix is reused
            int[] p3 = concat(java.util.Arrays.copyOf(p1, 3), List.of(), tokenizer.encode(" little bird sang", false, false));
            s.submit(turn("t3", "s1", p3, 8));
            s.submit(turn("t3-stateless", null, p3, 8));
            sink.await(List.of("t3", "t3-stateless"));
            assertEquals(3, ((TokenGenerated) sink.byRequest.get("t3").getLast()).usage().cachedTokens());
            assertEquals(sink.ids("t3-stateless"), sink.ids("t3"));
        }
    }

    /** Parks serialized bytes (the real format), as session-service would; can lose its snapshots. */
    @Test
    void aDeletedSessionLeavesMemoryWithoutBeingParked() throws Exception {
        Sink sink = new Sink();
        MemoryStore store = new MemoryStore();
        int[] p1 = tokenizer.encode("Once upon a time", true, false);
        int[] p2;
        try (Scheduler s = new Scheduler(model, tokenizer, sink, new Scheduler.Limits(4, 16, 1L << 30, 512,
                KvCacheOptions.DEFAULT, 1000, 64L << 20), store).start()) {
            s.submit(turn("d1", "doomed", p1, 6));
            sink.await(List.of("d1"));
            assertEquals(1, s.stats().sessions());
            s.submit(new dev.jllm.contracts.SessionDeleted("del-1", "doomed", "doomed"));
            long deadline = System.currentTimeMillis() + 10_000;
            while (s.stats().sessions() > 0 && System.currentTimeMillis() < deadline) Thread.sleep(10);
            assertEquals(0, s.stats().sessions(), "the hot cache is gone");
            assertEquals(0, s.stats().sessionBytes());
            Thread.sleep(200);
            assertTrue(store.snapshots.isEmpty(), "a deleted session is not parked");

            // its next turn (a new session of the same name) starts from nothing
            p2 = concat(p1, sink.ids("d1"), tokenizer.encode(" The end.", false, false));
            s.submit(turn("d2", "doomed", p2, 4));
            sink.await(List.of("d2"));
            assertEquals(0, ((TokenGenerated) sink.byRequest.get("d2").getLast()).usage().cachedTokens());
        }
        // shutdown parks what is hot: the new turn's cache, never the deleted one's (whose history was p1 + its answer)
        int[] parked = store.tokens.get("doomed");
        assertNotNull(parked, "the new turn's cache was parked at shutdown");
        assertArrayEquals(p2, java.util.Arrays.copyOf(parked, p2.length), "what was parked is the new turn's history");
    }

    static final class MemoryStore implements SessionStore {
        final ConcurrentHashMap<String, byte[]> snapshots = new ConcurrentHashMap<>();
        final ConcurrentHashMap<String, int[]> tokens = new ConcurrentHashMap<>();
        volatile boolean lose;

        @Override
        public void park(String id, KvCache cache, int[] t) throws java.io.IOException {
            var out = new java.io.ByteArrayOutputStream();
            cache.writeTo(out);
            snapshots.put(id, out.toByteArray());
            tokens.put(id, t.clone());
        }

        @Override
        public java.util.Optional<Parked> restore(String id) throws java.io.IOException {
            byte[] b = snapshots.get(id);
            if (b == null || lose) return java.util.Optional.empty();
            return java.util.Optional.of(new Parked(model.readCache(new java.io.ByteArrayInputStream(b)), tokens.get(id)));
        }
    }

    @Test
    void idleSessionsAreParkedAndLeaveMemory() throws Exception {
        MemoryStore store = new MemoryStore();
        Sink sink = new Sink();
        var limits = new Scheduler.Limits(4, 16, 1L << 30, 512, KvCacheOptions.DEFAULT, 1000, 64L << 20, java.time.Duration.ofMillis(100));
        try (Scheduler s = new Scheduler(model, tokenizer, sink, limits, store).start()) {
            s.submit(turn("i1", "idle-session", tokenizer.encode("The cat", true, false), 4));
            sink.await(List.of("i1"));
            long deadline = System.currentTimeMillis() + 10_000;
            while ((!store.snapshots.containsKey("idle-session") || s.stats().sessions() > 0) && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(store.snapshots.containsKey("idle-session"), "parked after being idle");
            assertEquals(0, s.stats().sessions(), "and no longer held in memory");
            assertEquals(0, s.stats().sessionBytes());
        }
    }

    static int cached(Sink sink, String id) {
        return ((TokenGenerated) sink.byRequest.get(id).getLast()).usage().cachedTokens();
    }

    @Test
    void parkedSessionsAreRestoredAfterEvictionAndAfterARestartWithIdenticalOutput() throws Exception {
        MemoryStore store = new MemoryStore();
        int[] p1 = tokenizer.encode("Once upon a time", true, false);
        // a session budget of 1 byte: every finished turn leaves memory at once and is parked
        var limits = new Scheduler.Limits(4, 16, 1L << 30, 512, KvCacheOptions.DEFAULT, 1000, 1);
        Sink sink = new Sink();
        List<Integer> g1;
        int[] p2;
        try (Scheduler s = new Scheduler(model, tokenizer, sink, limits, store).start()) {
            s.submit(turn("a1", "sa", p1, 10));
            sink.await(List.of("a1"));
            g1 = sink.ids("a1");
            p2 = concat(p1, g1, tokenizer.encode(" The cat ran.", false, false));
            long deadline = System.currentTimeMillis() + WAIT_MS;
            while (!store.snapshots.containsKey("sa") && System.currentTimeMillis() < deadline) Thread.sleep(5);
            s.submit(turn("a2", "sa", p2, 8));
            s.submit(turn("a2-stateless", null, p2, 8));
            sink.await(List.of("a2", "a2-stateless"));
        }
        assertEquals(p1.length + g1.size() - 1, cached(sink, "a2"), "restored from the parked snapshot");
        assertEquals(sink.ids("a2-stateless"), sink.ids("a2"));

        // a new scheduler (a restarted replica) finds the session parked by the old one's shutdown
        Sink after = new Sink();
        List<Integer> g2 = sink.ids("a2");
        int[] p3 = concat(p2, g2, tokenizer.encode(" Then", false, false));
        try (Scheduler s = new Scheduler(model, tokenizer, after, limits, store).start()) {
            s.submit(turn("a3", "sa", p3, 6));
            s.submit(turn("a3-stateless", null, p3, 6));
            after.await(List.of("a3", "a3-stateless"));
            assertEquals(p2.length + g2.size() - 1, cached(after, "a3"));
            assertEquals(after.ids("a3-stateless"), after.ids("a3"));

            // a lost (or corrupt) snapshot: the turn re-prefills, same answer, nothing reused
            store.lose = true;
            s.submit(turn("a4", "sa", p3, 6));
            after.await(List.of("a4"));
            assertEquals(0, cached(after, "a4"));
            assertEquals(after.ids("a3-stateless"), after.ids("a4"));
        }
    }

    @Test
    void textDeltasConcatenateToTheDecodedIdsAndStopStringsEndGeneration() throws Exception {
        Sink sink = new Sink();
        List<Integer> expectedIds = alone("Once upon a time", 40);
        String full = tokenizer.decode(expectedIds.stream().mapToInt(Integer::intValue).toArray(), true);
        int cut = full.indexOf("girl");
        assertTrue(cut > 0, "the golden continuation mentions a girl: " + full);
        try (Scheduler s = scheduler(sink, 4, 16, 512)) {
            s.submit(request("plain", "Once upon a time", 40));
            var withStop = request("stopped", "Once upon a time", 40);
            s.submit(new PromptTokenized("stopped", "gw", "stopped", null, "m", withStop.promptIds(), withStop.params(),
                    List.of("girl"), Priority.INTERACTIVE, 0));
            sink.await(List.of("plain", "stopped"));
        }
        assertEquals(full, text(sink, "plain"));
        assertEquals(full.substring(0, cut), text(sink, "stopped"));
        assertEquals(FinishReason.STOP, ((TokenGenerated) sink.byRequest.get("stopped").getLast()).finishReason());
        assertEquals(FinishReason.LENGTH, ((TokenGenerated) sink.byRequest.get("plain").getLast()).finishReason());
    }

    static String text(Sink sink, String id) {
        StringBuilder sb = new StringBuilder();
        for (GenerationEvent e : sink.byRequest.get(id)) sb.append(((TokenGenerated) e).text());
        return sb.toString();
    }

    @Test
    void cancelEndsASequenceAndARedeliveredRequestIsIgnored() throws Exception {
        Sink sink = new Sink();
        try (Scheduler s = scheduler(sink, 4, 16, 512)) {
            s.submit(request("long", "Once upon a time", 400));
            long deadline = System.currentTimeMillis() + WAIT_MS;
            while (!sink.byRequest.containsKey("long") && System.currentTimeMillis() < deadline) Thread.sleep(1);
            s.submit(new GenerationCancelled("long", "long", "test"));
            sink.await(List.of("long"));
            TokenGenerated last = (TokenGenerated) sink.byRequest.get("long").getLast();
            assertEquals(FinishReason.CANCELLED, last.finishReason());
            assertTrue(last.usage().completionTokens() < 400, "cancelled long before the end");
            assertEquals(1, s.stats().cancelled());

            s.submit(request("once", "The cat", 3));
            sink.await(List.of("once"));
            int events = sink.byRequest.get("once").size();
            assertEquals(List.of(), sink.dropped);
            s.submit(request("once", "The cat", 3)); // redelivery of the same request id
            s.submit(request("after", "Tom", 2));
            sink.await(List.of("after"));
            assertEquals(events, sink.byRequest.get("once").size(), "a redelivered request must not run again");
            assertEquals(List.of("once"), sink.dropped, "the sink hears that the redelivery is done with (its offset may be committed)");
        }
    }

    @Test
    void aRequestCancelledWhileItWaitsIsDroppedAndSaidSo() throws Exception {
        Sink sink = new Sink();
        try (Scheduler s = scheduler(sink, 1, 16, 512)) { // one runs at a time: the second waits
            s.submit(request("first", "Once upon a time", 400));
            s.submit(request("second", "The cat", 20));
            long deadline = System.currentTimeMillis() + WAIT_MS;
            while (!sink.byRequest.containsKey("first") && System.currentTimeMillis() < deadline) Thread.sleep(1);
            s.submit(new GenerationCancelled("second", "second", "test"));
            while (sink.dropped.isEmpty() && System.currentTimeMillis() < deadline) Thread.sleep(1);
            assertEquals(List.of("second"), sink.dropped);
            s.submit(new GenerationCancelled("first", "first", "test"));
            sink.await(List.of("first"));
            s.submit(request("after", "Tom", 2));
            sink.await(List.of("after"));
            assertNull(sink.byRequest.get("second"), "a request cancelled before it ran sends nothing");
        }
    }

    @Test
    void requestsRunningOrWaitingAtShutdownAreLeftForRedeliveryWithoutAnEvent() throws Exception {
        Sink sink = new Sink();
        Scheduler s = scheduler(sink, 1, 16, 512);
        s.submit(request("running", "Once upon a time", 400));
        s.submit(request("waiting", "The cat", 20));
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (!sink.byRequest.containsKey("running") && System.currentTimeMillis() < deadline) Thread.sleep(1);
        s.close();
        List<GenerationEvent> ran = sink.byRequest.get("running");
        assertFalse(ran.getLast() instanceof RequestFailed, "no error: the next owner of the command serves it");
        assertFalse(((TokenGenerated) ran.getLast()).isLast(), "it did not finish: " + ran.getLast());
        assertNull(sink.byRequest.get("waiting"));
        assertEquals(List.of(), sink.dropped, "neither is done with: their commands stay unacknowledged");
    }

    @Test
    void theQueueBoundHoldsWhileTheSchedulerRuns() throws Exception {
        Sink sink = new Sink();
        List<String> ids = new ArrayList<>();
        // 1 running + 2 admitted-waiting + 2 in the inbox at most: of 9 long requests sent at once, 4 or more are refused
        try (Scheduler s = new Scheduler(model, tokenizer, sink, new Scheduler.Limits(1, 2, 1L << 30, 64, KvCacheOptions.DEFAULT, 100)).start()) {
            for (int i = 0; i < 9; i++) {
                ids.add("q" + i);
                s.submit(request("q" + i, "Once upon a time", 200));
            }
            sink.await(ids);
        }
        long refused = ids.stream().filter(id -> sink.byRequest.get(id).getFirst() instanceof RequestFailed f && f.status() == 429).count();
        assertTrue(refused >= 4, refused + " of 9 refused");
        assertTrue(refused <= 8, "the first one runs");
    }

    @Test
    void seedlessSamplingIsReproduciblePerRequestId() throws Exception {
        Sink sink = new Sink();
        var params = new dev.jllm.contracts.SamplingParams(1.0, 1.0, 0, 0, 0, 0, 1, null, 12, 0, false);
        int[] prompt = tokenizer.encode("Once upon a time", true, false);
        try (Scheduler s = scheduler(sink, 4, 16, 512)) {
            s.submit(new PromptTokenized("same-id", "gw", "k", null, "m", prompt, params, List.of(), Priority.INTERACTIVE, 0));
            sink.await(List.of("same-id"));
        }
        Sink again = new Sink();
        try (Scheduler s = scheduler(again, 4, 16, 512)) { // a redelivery on another replica
            s.submit(new PromptTokenized("same-id", "gw", "k", null, "m", prompt, params, List.of(), Priority.INTERACTIVE, 0));
            s.submit(new PromptTokenized("other-id", "gw", "k", null, "m", prompt, params, List.of(), Priority.INTERACTIVE, 0));
            again.await(List.of("same-id", "other-id"));
        }
        assertEquals(sink.ids("same-id"), again.ids("same-id"));
        assertNotEquals(again.ids("same-id"), again.ids("other-id"), "different requests draw differently");
    }

    @Test
    void aFullQueueRefusesWith429AndTooLongPromptsAre400() throws Exception {
        Sink sink = new Sink();
        // not started: nothing drains the queue of 2
        Scheduler s = new Scheduler(model, tokenizer, sink, new Scheduler.Limits(1, 2, 1L << 30, 64, KvCacheOptions.DEFAULT, 100));
        s.submit(request("a", "x", 1));
        s.submit(request("b", "x", 1));
        s.submit(request("c", "x", 1));
        RequestFailed f = (RequestFailed) sink.byRequest.get("c").getFirst();
        assertEquals(429, f.status());
        assertNull(sink.byRequest.get("a"));

        Sink sink2 = new Sink();
        try (Scheduler t = scheduler(sink2, 2, 8, 64)) {
            int[] tooLong = new int[model.config().contextLength() + 1];
            java.util.Arrays.fill(tooLong, 300);
            t.submit(new PromptTokenized("big", "gw", "big", null, "m", tooLong, SamplingParams.greedy(1), List.of(),
                    Priority.INTERACTIVE, 0));
            sink2.await(List.of("big"));
            RequestFailed g = (RequestFailed) sink2.byRequest.get("big").getFirst();
            assertEquals(400, g.status());
            assertEquals("context_length_exceeded", g.code());
        }
        s.close();
    }

    @Test
    void aRequestArrivingWhileTheSchedulerShutsDownIs503NotQueueFull() throws Exception {
        Sink sink = new Sink();
        Scheduler s = scheduler(sink, 2, 8, 64);
        s.close();
        s.submit(request("late", "x", 1));
        RequestFailed f = (RequestFailed) sink.byRequest.get("late").getFirst();
        assertEquals(503, f.status(), "retryable elsewhere: the replica is going away, its queue is not full");
        assertEquals("service_unavailable", f.type());
    }
}
