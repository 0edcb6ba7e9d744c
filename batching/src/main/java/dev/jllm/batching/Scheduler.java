package dev.jllm.batching;

import dev.jllm.contracts.FinishReason;
import dev.jllm.contracts.GenerationCancelled;
import dev.jllm.contracts.SessionDeleted;
import dev.jllm.contracts.InferenceCommand;
import dev.jllm.contracts.PromptTokenized;
import dev.jllm.contracts.RequestFailed;
import dev.jllm.contracts.TokenGenerated;
import dev.jllm.contracts.TokenLogprob;
import dev.jllm.contracts.Usage;
import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.SequenceChunk;
import dev.jllm.engine.kv.KvCache;
import dev.jllm.engine.kv.KvCacheOptions;
import dev.jllm.engine.model.ModelConfig;
import dev.jllm.engine.sample.Sample;
import dev.jllm.engine.sample.Sampler;
import dev.jllm.engine.sample.SamplingParams;
import dev.jllm.tokenizer.StreamingDecoder;
import dev.jllm.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Continuous batching on one model, on ONE dedicated platform thread (the engine's forward pass is CPU-bound
 * and must never run on an event loop or a Kafka consumer thread; one thread also means the sequences, caches
 * and samplers need no locks).
 *
 * <p>Each step packs, into one forward pass, one decode token of every running sequence plus prefill chunks of
 * newly admitted ones (at most {@code prefillTokensPerStep} prompt tokens per step, so a long prompt does not
 * stall the others' decoding). Finished and cancelled sequences leave at once. Admission is bounded by a number
 * of running sequences and a KV-memory budget; the rest wait in a bounded queue, and a request that finds the
 * queue full is refused (429), never buffered without limit. Waiting interactive requests are admitted before
 * waiting batch ones ({@link dev.jllm.contracts.Priority#BATCH}: jobs), first come first served within each.
 */
public final class Scheduler implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Scheduler.class.getName());
    /** Idle wait for new work; bounds how long a close() waits for the loop too. */
    private static final long IDLE_POLL_MS = 50;

    /** Limits of the scheduler (from the service's configuration). */
    public record Limits(int maxRunning, int maxQueued, long kvBudgetBytes, int prefillTokensPerStep,
                         KvCacheOptions cacheOptions, int rememberedRequests, long sessionBudgetBytes, java.time.Duration idleParkAfter) {
        public Limits(int maxRunning, int maxQueued, long kvBudgetBytes, int prefillTokensPerStep,
                      KvCacheOptions cacheOptions, int rememberedRequests, long sessionBudgetBytes) {
            this(maxRunning, maxQueued, kvBudgetBytes, prefillTokensPerStep, cacheOptions, rememberedRequests, sessionBudgetBytes,
                    java.time.Duration.ofMinutes(10));
        }

        /** Without session caches. */
        public Limits(int maxRunning, int maxQueued, long kvBudgetBytes, int prefillTokensPerStep,
                      KvCacheOptions cacheOptions, int rememberedRequests) {
            this(maxRunning, maxQueued, kvBudgetBytes, prefillTokensPerStep, cacheOptions, rememberedRequests, 0);
        }
    }

    private final LanguageModel model;
    private final Tokenizer tokenizer;
    private final GenerationSink sink;
    private final Limits limits;
    private final ModelConfig config;
    private final int maxContext;
    private final long kvBytesPerToken;

    /** Commands from the consumer thread to the scheduler thread; bounded (requests beyond it get 429). */
    private final BlockingQueue<PromptTokenized> inbox;
    /** Cancels are tiny and must not be refused when the request queue is full: their own bounded queue. */
    private final BlockingQueue<GenerationCancelled> cancels = new ArrayBlockingQueue<>(16_384);
    /** Sessions whose hot caches are to be dropped (deleted by their owner); handed over like cancels. */
    private final BlockingQueue<SessionDeleted> deletions = new ArrayBlockingQueue<>(4_096);

    // --- owned by the scheduler thread ---
    /** Interactive requests before batch ones (jobs), FIFO within each. */
    private final AdmissionQueue waiting = new AdmissionQueue();
    private final List<Sequence> running = new ArrayList<>();
    private final LinkedHashMap<String, Boolean> seen;
    private final SessionCaches sessions;
    /** Parked sessions (null: none); every call runs on {@link #parking}, one at a time, in order. */
    private final SessionStore store;
    private final java.util.concurrent.ThreadPoolExecutor parking;
    /** Requests whose session cache is being restored; they join {@link #waiting} when it is done. */
    private final List<Restore> restoring = new ArrayList<>();
    /** Restored caches waiting for their request's admission, by request id (at most one per restore). */
    private final Map<String, SessionCaches.Entry> restored = new java.util.HashMap<>();
    private record Restore(PromptTokenized req, java.util.concurrent.Future<java.util.Optional<SessionStore.Parked>> result, long startedNanos) {}
    /** A restore that takes longer than this is abandoned: the turn re-prefills instead of waiting. */
    private static final long RESTORE_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);
    private long kvReserved;
    private long steps;
    private long tokensGenerated;
    private long cancelledCount;
    private long cancelsReceived;

    private volatile SchedulerStats stats = new SchedulerStats(0, 0, 0, 0, 0, 0, 0, 0, 0);
    private volatile boolean closed;
    private final Thread thread;

    public Scheduler(LanguageModel model, Tokenizer tokenizer, GenerationSink sink, Limits limits) {
        this(model, tokenizer, sink, limits, null);
    }

    /** With {@code store}, session caches that leave memory are parked there and restored on a later turn. */
    public Scheduler(LanguageModel model, Tokenizer tokenizer, GenerationSink sink, Limits limits, SessionStore store) {
        this.store = store;
        this.parking = new java.util.concurrent.ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
                new java.util.concurrent.LinkedBlockingQueue<>(1024),
                r -> Thread.ofPlatform().name("session-parking").daemon(true).unstarted(r));
        this.model = model;
        this.tokenizer = tokenizer;
        this.sink = sink;
        this.limits = limits;
        this.config = model.config();
        this.maxContext = limits.cacheOptions().maxContext() > 0
                ? Math.min(limits.cacheOptions().maxContext(), config.contextLength()) : config.contextLength();
        int elementBytes = limits.cacheOptions().type().name().equals("F16") ? 2 : 4;
        this.kvBytesPerToken = 2L * config.nLayers() * config.kvDim() * elementBytes; // K and V, every layer
        this.inbox = new ArrayBlockingQueue<>(limits.maxQueued());
        int remembered = limits.rememberedRequests();
        this.seen = new LinkedHashMap<>(1024, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > remembered;
            }
        };
        this.sessions = new SessionCaches(limits.sessionBudgetBytes());
        this.thread = Thread.ofPlatform().name("inference-scheduler").daemon(false).unstarted(this::loop);
    }

    public Scheduler start() {
        thread.start();
        return this;
    }

    /**
     * Hands a command over from a consumer thread; never blocks. A request that finds the queue full is
     * answered with a 429 error event, one that arrives while the scheduler shuts down with a 503.
     */
    public void submit(InferenceCommand command) {
        switch (command) {
            case GenerationCancelled c -> {
                if (!cancels.offer(c)) LOG.log(System.Logger.Level.WARNING, "cancel queue full; dropped cancel of {0}", c.requestId());
            }
            case SessionDeleted d -> {
                if (!deletions.offer(d)) LOG.log(System.Logger.Level.WARNING, "deletion queue full; session {0} stays cached until evicted", d.sessionId());
            }
            case PromptTokenized p -> {
                if (closed) {
                    sink.emit(new RequestFailed(p.requestId(), p.gatewayId(), 503, "service_unavailable",
                            "The inference service is shutting down.", null, null));
                } else if (!inbox.offer(p)) {
                    sink.emit(new RequestFailed(p.requestId(), p.gatewayId(), 429, "rate_limit_exceeded",
                            "The inference queue is full; retry shortly.", null, "queue_full"));
                }
            }
        }
    }

    /** A 64-bit seed from a request id (FNV-1a, then a SplitMix64 finaliser). */
    static long seedOf(String requestId) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < requestId.length(); i++) h = (h ^ requestId.charAt(i)) * 0x100000001b3L;
        h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
        h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
        return h ^ (h >>> 31);
    }

    /** False once the scheduler thread has ended (closed, or killed by an error): health must say so. */
    public boolean isRunning() {
        return thread.isAlive() && !closed;
    }

    public SchedulerStats stats() {
        return stats;
    }

    /** The largest context a sequence may use here. */
    public int maxContext() {
        return maxContext;
    }

    // ------------------------------------------------------------------ the scheduler thread

    private void loop() {
        LOG.log(System.Logger.Level.INFO, "scheduler started: max {0} running, {1} queued, KV budget {2} MB, {3} prefill tokens/step",
                limits.maxRunning(), limits.maxQueued(), limits.kvBudgetBytes() >> 20, limits.prefillTokensPerStep());
        while (!closed) {
            try {
                drain(running.isEmpty() && waiting.isEmpty() && restoring.isEmpty());
                collectRestores();
                applyDeletions();
                parkIdleSessions();
                applyCancels();
                admit();
                if (!running.isEmpty()) step();
                publishStats();
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException | Error e) {
                // a bug or an engine failure: fail the running sequences, keep serving the next ones
                LOG.log(System.Logger.Level.ERROR, "scheduler step failed; failing " + running.size() + " sequences", e);
                for (Sequence s : running) fail(s, 500, "server_error", "Inference failed: " + e);
                running.clear();
                kvReserved = 0;
                if (e instanceof OutOfMemoryError) throw (OutOfMemoryError) e;
            }
        }
        // what runs or waits now is left unserved, without an event: its command was not acknowledged, so the next
        // owner of its partition gets it again and serves it, and the gateway drops the tokens it already sent
        // (by index: with the seed derived from the request id, a rerun samples the same tokens)
        if (!running.isEmpty() || !waiting.isEmpty() || !restoring.isEmpty() || !inbox.isEmpty()) {
            LOG.log(System.Logger.Level.INFO, "shutting down with {0} running and {1} waiting requests: left for redelivery",
                    running.size(), waiting.size() + restoring.size() + inbox.size());
        }
        for (Restore r : restoring) r.result().cancel(true);
        park(sessions.drainAll()); // a restarted replica finds them again
        parking.shutdown();
    }

    private void drain(boolean idle) throws InterruptedException {
        // the queue bound covers everything not yet running: what stays in the inbox past it is refused in submit()
        if (waiting.size() + restoring.size() >= limits.maxQueued()) {
            if (idle) Thread.sleep(1);
            return;
        }
        PromptTokenized p = idle ? inbox.poll(IDLE_POLL_MS, TimeUnit.MILLISECONDS)
                : !restoring.isEmpty() && running.isEmpty() && waiting.isEmpty() ? inbox.poll(2, TimeUnit.MILLISECONDS) : inbox.poll();
        while (p != null) {
            if (seen.containsKey(p.requestId())) {
                LOG.log(System.Logger.Level.DEBUG, "ignoring redelivered request {0}", p.requestId());
                sink.dropped(p.requestId());
            } else {
                seen.put(p.requestId(), Boolean.TRUE);
                if (store != null && p.sessionId() != null && !sessions.contains(p.sessionId())) {
                    restoring.add(new Restore(p, startRestore(p.sessionId()), System.nanoTime()));
                } else {
                    waiting.add(p);
                }
            }
            p = waiting.size() + restoring.size() < limits.maxQueued() ? inbox.poll() : null;
        }
    }

    /** Deleted sessions leave memory without being parked (session-service already removed them). */
    private void applyDeletions() {
        SessionDeleted d;
        while ((d = deletions.poll()) != null) {
            if (sessions.take(d.sessionId()) != null) {
                LOG.log(System.Logger.Level.DEBUG, "dropped the cache of deleted session {0}", d.sessionId());
            }
        }
    }

    private void applyCancels() {
        GenerationCancelled c;
        while ((c = cancels.poll()) != null) {
            cancelsReceived++;
            String id = c.requestId();
            seen.put(id, Boolean.TRUE); // a request arriving after its cancel is dropped
            boolean found = false;
            for (Iterator<Sequence> it = running.iterator(); it.hasNext(); ) {
                Sequence s = it.next();
                if (s.req.requestId().equals(id)) {
                    cancelledCount++;
                    finish(s, FinishReason.CANCELLED, "");
                    it.remove();
                    found = true;
                }
            }
            if (!found) {
                boolean removed = waiting.removeIf(p -> p.requestId().equals(id));
                restored.remove(id);
                removed |= restoring.removeIf(r -> {
                    if (!r.req().requestId().equals(id)) return false;
                    r.result().cancel(true);
                    return true;
                });
                if (removed) sink.dropped(id);
            }
        }
    }

    private void admit() {
        while (!waiting.isEmpty() && running.size() < limits.maxRunning()) {
            PromptTokenized p = waiting.peek();
            int promptLen = p.promptIds().length;
            if (promptLen == 0 || promptLen >= maxContext) {
                waiting.poll();
                restored.remove(p.requestId());
                failRequest(p, 400, "invalid_request_error", "This model's maximum context length is " + maxContext
                        + " tokens; the prompt has " + promptLen + ".", "context_length_exceeded");
                continue;
            }
            long bytes = reservation(p);
            if (kvReserved + bytes > limits.kvBudgetBytes() && !running.isEmpty()) return; // wait for memory
            waiting.poll();
            try {
                running.add(new Sequence(p, bytes));
                kvReserved += bytes;
            } catch (IllegalArgumentException e) { // bad sampling values that slipped past validation
                restored.remove(p.requestId());
                failRequest(p, 400, "invalid_request_error", e.getMessage(), null);
            }
        }
    }

    /** KV bytes a request may grow to: its prompt plus its completion, capped by the context (and window). */
    private long reservation(PromptTokenized p) {
        int max = p.params().maxTokens() > 0 ? p.params().maxTokens() : maxContext;
        long tokens = Math.min((long) p.promptIds().length + max, maxContext);
        if (config.slidingWindow() > 0) tokens = Math.min(tokens, config.slidingWindow());
        return tokens * kvBytesPerToken;
    }

    /** One forward pass over every running sequence. */
    private void step() {
        List<SequenceChunk> chunks = new ArrayList<>(running.size());
        List<Sequence> inPass = new ArrayList<>(running.size());
        int prefillBudget = limits.prefillTokensPerStep();
        for (Sequence s : running) {
            if (s.prefilling()) {
                if (prefillBudget <= 0) continue; // waits for the next step
                int n = Math.min(s.promptRemaining(), prefillBudget);
                prefillBudget -= n;
                int[] part = java.util.Arrays.copyOfRange(s.req.promptIds(), s.prefilled, s.prefilled + n);
                s.prefilled += n;
                chunks.add(new SequenceChunk(s.cache, part, !s.prefilling()));
            } else {
                chunks.add(new SequenceChunk(s.cache, new int[] {s.lastToken}, true));
            }
            inPass.add(s);
        }
        float[][] logits = model.forward(chunks);
        steps++;
        for (int i = 0; i < inPass.size(); i++) {
            if (logits[i] != null) next(inPass.get(i), logits[i]);
        }
        running.removeIf(s -> s.done);
    }

    /** Samples the next token of {@code s}, streams its text, and decides whether it is finished. */
    private void next(Sequence s, float[] logits) {
        Sample sample = s.sampler.sample(logits, s.generatedIds, s.generated);
        int token = sample.token();
        if (tokenizer.isEog(token)) {
            finish(s, FinishReason.STOP, s.decoder.finish());
            return;
        }
        s.append(token);
        tokensGenerated++;
        StreamingDecoder.Delta delta = s.decoder.accept(token);
        TokenLogprob lp = s.req.params().logprobs() ? logprob(sample) : null;
        if (delta.stopped()) {
            emitToken(s, token, delta.text(), lp, FinishReason.STOP);
            return;
        }
        boolean atLimit = s.generated >= s.maxTokens || s.cache.length() + 1 > maxContext;
        if (atLimit) {
            emitToken(s, token, delta.text() + s.decoder.finish(), lp, FinishReason.LENGTH);
            return;
        }
        s.lastToken = token;
        emitToken(s, token, delta.text(), lp, null);
    }

    private TokenLogprob logprob(Sample sample) {
        List<TokenLogprob.Alternative> top = new ArrayList<>();
        if (sample.topIds() != null) {
            for (int i = 0; i < sample.topIds().length; i++) {
                int id = sample.topIds()[i];
                top.add(new TokenLogprob.Alternative(tokenizer.tokenText(id, false), id, sample.topLogprobs()[i]));
            }
        }
        return new TokenLogprob(tokenizer.tokenText(sample.token(), false), sample.token(), sample.logprob(), top);
    }

    private void emitToken(Sequence s, int token, String text, TokenLogprob lp, FinishReason finish) {
        Usage usage = null;
        if (finish != null) {
            s.done = true;
            kvReserved -= s.reservedBytes;
            keepForSession(s);
            usage = new Usage(s.req.promptIds().length, s.generated, s.cachedTokens);
        }
        sink.emit(new TokenGenerated(s.req.requestId(), s.req.gatewayId(), s.index++, token, text, lp, finish, usage));
    }

    /** Ends {@code s} with a final event that carries no token. */
    private void finish(Sequence s, FinishReason reason, String text) {
        if (s.done) return;
        s.done = true;
        kvReserved -= s.reservedBytes;
        keepForSession(s);
        sink.emit(new TokenGenerated(s.req.requestId(), s.req.gatewayId(), s.index++, -1, text, null, reason,
                new Usage(s.req.promptIds().length, s.generated, s.cachedTokens)));
    }

    /**
     * A finished turn's cache stays hot for the session's next turn. The cache holds the prompt and every
     * generated token fed back so far ({@code (prompt ++ generated)[0 .. cache.length())}); a partly prefilled
     * (cancelled) cache is kept too, it is still a valid prefix.
     */
    private void keepForSession(Sequence s) {
        if (s.req.sessionId() == null || limits.sessionBudgetBytes() <= 0) return;
        int[] prompt = s.req.promptIds();
        int len = s.cache.length();
        int[] tokens = java.util.Arrays.copyOf(prompt, Math.max(len, prompt.length));
        for (int i = prompt.length; i < len; i++) tokens[i] = s.generatedIds[i - prompt.length];
        park(sessions.put(s.req.sessionId(), s.cache, java.util.Arrays.copyOf(tokens, len)));
    }

    private java.util.concurrent.Future<java.util.Optional<SessionStore.Parked>> startRestore(String sessionId) {
        try {
            return parking.submit(() -> store.restore(sessionId));
        } catch (java.util.concurrent.RejectedExecutionException busy) {
            return java.util.concurrent.CompletableFuture.completedFuture(java.util.Optional.empty());
        }
    }

    /** Restored sessions become hot and their requests join the queue; a failed or slow restore means re-prefill. */
    private void collectRestores() {
        for (Iterator<Restore> it = restoring.iterator(); it.hasNext(); ) {
            Restore r = it.next();
            java.util.Optional<SessionStore.Parked> parked = java.util.Optional.empty();
            if (r.result().isDone()) {
                try {
                    parked = r.result().get();
                } catch (Exception e) {
                    LOG.log(System.Logger.Level.WARNING, "restoring session {0} failed, re-prefilling: {1}", r.req().sessionId(), e.toString());
                }
            } else if (System.nanoTime() - r.startedNanos() > RESTORE_TIMEOUT_NANOS) {
                r.result().cancel(true);
                LOG.log(System.Logger.Level.WARNING, "restoring session {0} timed out, re-prefilling", r.req().sessionId());
            } else {
                continue;
            }
            it.remove();
            // handed to the request itself: the LRU budget may be too small to hold it until admission
            parked.ifPresent(c -> restored.put(r.req().requestId(), new SessionCaches.Entry(c.cache(), c.tokens())));
            waiting.add(r.req());
        }
    }

    private long lastIdleCheck = System.nanoTime();

    /** Sessions idle past {@code idleParkAfter} leave memory for the store (checked about once a second). */
    private void parkIdleSessions() {
        long now = System.nanoTime();
        if (store == null || now - lastIdleCheck < 1_000_000_000L) return;
        lastIdleCheck = now;
        park(sessions.idleFor(limits.idleParkAfter().toNanos()));
    }

    /** Hands caches that left memory to the store, on the parking thread (the scheduler never waits for I/O). */
    private void park(Map<String, SessionCaches.Entry> evicted) {
        if (store == null) return;
        for (Map.Entry<String, SessionCaches.Entry> e : evicted.entrySet()) {
            try {
                parking.execute(() -> {
                    try {
                        store.park(e.getKey(), e.getValue().cache(), e.getValue().tokens());
                    } catch (Exception ex) {
                        LOG.log(System.Logger.Level.WARNING, "parking session {0} failed: {1}", e.getKey(), ex.toString());
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException busy) {
                LOG.log(System.Logger.Level.WARNING, "parking queue full: session {0} is dropped (its next turn re-prefills)", e.getKey());
            }
        }
    }

    private void fail(Sequence s, int status, String type, String message) {
        if (s.done) return;
        s.done = true;
        failRequest(s.req, status, type, message, null);
    }

    private void failRequest(PromptTokenized p, int status, String type, String message, String code) {
        sink.emit(new RequestFailed(p.requestId(), p.gatewayId(), status, type, message, null, code));
    }

    private void publishStats() {
        stats = new SchedulerStats(inbox.size() + waiting.size(), running.size(), kvReserved, steps, tokensGenerated, cancelledCount, cancelsReceived,
                sessions.size(), sessions.bytes());
    }

    @Override
    public void close() {
        closed = true;
        try {
            thread.join(30_000);
            parking.shutdown();
            if (!parking.awaitTermination(60, TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "session parking did not finish within 60 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------ one sequence

    private final class Sequence {
        final PromptTokenized req;
        final KvCache cache;
        final Sampler sampler;
        final StreamingDecoder decoder;
        final long reservedBytes;
        final int maxTokens;
        /** Prompt tokens whose keys and values came from the session's cache. */
        final int cachedTokens;
        int prefilled;
        int[] generatedIds = new int[16];
        int generated;
        int lastToken;
        int index;
        boolean done;

        Sequence(PromptTokenized req, long reservedBytes) {
            this.req = req;
            this.reservedBytes = reservedBytes;
            int room = maxContext - req.promptIds().length;
            this.maxTokens = req.params().maxTokens() > 0 ? Math.min(req.params().maxTokens(), room) : room;
            this.sampler = new Sampler(samplingParams(req.params(), req.requestId()));
            this.decoder = tokenizer.newStreamingDecoder(req.stop() == null ? List.of() : req.stop());
            KvCache reused = null;
            int cached = 0;
            SessionCaches.Entry entry = restored.remove(req.requestId());
            if (entry == null && req.sessionId() != null) entry = sessions.take(req.sessionId());
            if (entry != null) {
                // keep at least one prompt token to run: its logits choose the first new token
                int common = Math.min(SessionCaches.commonPrefix(entry.tokens(), entry.cache().length(), req.promptIds()),
                        req.promptIds().length - 1);
                try {
                    entry.cache().truncate(common);
                    reused = entry.cache();
                    cached = common;
                } catch (IllegalStateException rolledPast) {
                    // a rolling buffer that wrapped cannot rewind that far: prefill from scratch
                }
            }
            this.cache = reused != null ? reused : model.newCache(limits.cacheOptions().withMaxContext(maxContext));
            this.cachedTokens = cached;
            this.prefilled = cached;
        }

        boolean prefilling() {
            return prefilled < req.promptIds().length;
        }

        int promptRemaining() {
            return req.promptIds().length - prefilled;
        }

        void append(int token) {
            if (generated == generatedIds.length) generatedIds = java.util.Arrays.copyOf(generatedIds, generated * 2);
            generatedIds[generated++] = token;
        }
    }

    /**
     * OpenAI's parameters to the engine's. Penalties see the generated tokens only (OpenAI's semantics for
     * presence/frequency). A request without a seed gets one derived from its id: a redelivered request (after a
     * replica died) samples the same tokens again, so the text the gateway already sent stays consistent.
     */
    static SamplingParams samplingParams(dev.jllm.contracts.SamplingParams p, String requestId) {
        return SamplingParams.builder()
                .temperature((float) p.temperature())
                .topK(Math.max(p.topK(), 0))
                .topP((float) p.topP())
                .minP((float) p.minP())
                .repetitionPenalty((float) p.repetitionPenalty())
                .presencePenalty((float) p.presencePenalty())
                .frequencyPenalty((float) p.frequencyPenalty())
                .penaltyLastN(-1)
                .seed(p.seed() != null ? p.seed() : seedOf(requestId))
                .topLogprobs(p.logprobs() ? p.topLogprobs() : 0)
                .build();
    }
}
