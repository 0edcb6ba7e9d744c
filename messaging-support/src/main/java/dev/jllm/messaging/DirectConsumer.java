package dev.jllm.messaging;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Deserializer;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * One channel's consumer loop on a thread of its own that hands each record straight to its handler, on the
 * polling thread. The messaging layer's own path goes poll thread -> a Vert.x context -> the handler: one more
 * thread hand-off per record, 0.5-0.7 ms of each hop's time to first token on a busy 2-core machine
 * ({@code bin/trace-report}). A handler must therefore be quick (hand the record on, or do a fraction of a
 * millisecond of work) and never block.
 *
 * <p>Guarantees, with {@link Settings#commit()} (the services' shared consumer groups):
 * <ul>
 *   <li>at-least-once: a record's offset is committed only once the stage its handler returned completed (the
 *       outputs were acknowledged), in offset order per partition; a redelivered record is the handler's to
 *       recognise (by request id);</li>
 *   <li>a record that cannot be read, whose handler throws, or whose stage fails goes to the dead-letter topic
 *       with the reason (headers {@code dead-letter-reason}, {@code -topic}, {@code -partition}, {@code -offset})
 *       and the partition moves on; if even that write fails, the partition rewinds to the record and retries
 *       after {@link #RETRY_PAUSE} (nothing is skipped);</li>
 *   <li>records of one partition reach the handler in order, on one thread;</li>
 *   <li>bounded: past {@link Settings#maxPending()} unfinished records the partitions pause until half of them
 *       finished;</li>
 *   <li>on a rebalance, finished offsets of revoked partitions are committed before they go; their unfinished
 *       records are redelivered to the next owner.</li>
 * </ul>
 * Without {@code commit} (a gateway's own group, read from the end) nothing is committed or dead-lettered:
 * an unreadable record is logged and skipped. Every wait is bounded: polls by {@link Settings#pollTimeout()},
 * {@link #close()} by {@link #CLOSE_TIMEOUT}.
 */
public final class DirectConsumer<T> implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DirectConsumer.class);
    static final Duration RETRY_PAUSE = Duration.ofSeconds(1);
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);
    /** Finished offsets are committed at most this often (and on every rebalance and at close). */
    static final long COMMIT_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /** Handles one record; the stage completes when its outputs were acknowledged (null: done at once). */
    @FunctionalInterface
    public interface Handler<T> {
        CompletionStage<Void> handle(T value, String key) throws Exception;
    }

    /**
     * @param channel         name for logs and the thread
     * @param topic           the topic read
     * @param commit          commit finished offsets (false: a group of one instance that reads from the end)
     * @param deadLetterTopic where unreadable or failed records go (with {@code commit})
     * @param maxPending      unfinished records beyond which the partitions pause
     * @param pollTimeout     the longest a poll waits (also the longest a finished offset waits for its commit)
     */
    public record Settings(String channel, String topic, boolean commit, String deadLetterTopic, int maxPending,
                           Duration pollTimeout) {
        public Settings {
            if (commit && deadLetterTopic == null) throw new IllegalArgumentException(channel + ": a committing consumer needs a dead-letter topic");
            if (maxPending < 2) throw new IllegalArgumentException(channel + ": maxPending must be at least 2, got " + maxPending);
        }
    }

    /** A record handed to the handler and not finished yet; {@code done} is set from any thread. */
    private static final class Pending {
        final long offset;
        volatile boolean done;

        Pending(long offset) {
            this.offset = offset;
        }
    }

    private final Settings settings;
    private final Consumer<String, byte[]> consumer;
    private final Producer<String, byte[]> deadLetters;
    private final Deserializer<T> deserializer;
    private final Handler<T> handler;
    private final Runnable onAssigned;
    private final Thread thread;

    // --- owned by the polling thread ---
    /** Per partition, handed-out records in offset order [unfinished and finished-but-uncommitted]. */
    private final Map<TopicPartition, ArrayDeque<Pending>> pending = new HashMap<>();
    private int pendingCount;
    private boolean paused;
    private long lastCommitNanos;
    /** Finished offsets not committed yet (next offset to read, per partition). */
    private final Map<TopicPartition, Long> toCommit = new HashMap<>();
    /** Partitions rewound after a failed dead-letter write, and when they may resume. */
    private final Map<TopicPartition, Long> retryAt = new HashMap<>();
    /** Rewinds requested by completion callbacks (other threads); applied by the polling thread. */
    private final java.util.concurrent.ConcurrentLinkedQueue<Map.Entry<TopicPartition, Long>> rewinds = new java.util.concurrent.ConcurrentLinkedQueue<>();

    private volatile boolean running;
    private volatile boolean assigned;
    private volatile Throwable failure;

    /**
     * @param consumer    a consumer of String keys and raw values, not yet subscribed ({@code enable.auto.commit=false});
     *                    owned (closed) by this loop
     * @param deadLetters the producer for the dead-letter topic (null without {@code commit}); owned likewise
     * @param onAssigned  run on the polling thread after partitions were assigned and their positions resolved
     */
    public DirectConsumer(Settings settings, Consumer<String, byte[]> consumer, Producer<String, byte[]> deadLetters,
                          Deserializer<T> deserializer, Handler<T> handler, Runnable onAssigned) {
        if (settings.commit() && deadLetters == null) throw new IllegalArgumentException(settings.channel() + ": no dead-letter producer");
        this.settings = settings;
        this.consumer = consumer;
        this.deadLetters = deadLetters;
        this.deserializer = deserializer;
        this.handler = handler;
        this.onAssigned = onAssigned == null ? () -> {} : onAssigned;
        this.thread = Thread.ofPlatform().name("kafka-" + settings.channel()).daemon(true).unstarted(this::loop);
    }

    public DirectConsumer<T> start() {
        running = true;
        thread.start();
        return this;
    }

    /** The loop runs (false once closed or ended by an error: readiness must say so). */
    public boolean running() {
        return running && thread.isAlive();
    }

    /** True once the consumer got its partitions (and, reading from the end, resolved their positions). */
    public boolean assigned() {
        return assigned;
    }

    /** Why the loop ended, if an error ended it. */
    public Throwable failure() {
        return failure;
    }

    /** Stops polling, waits up to {@link #CLOSE_TIMEOUT} for handed-out records to finish and commits them. */
    @Override
    public void close() {
        if (!running) return;
        running = false;
        consumer.wakeup();
        try {
            thread.join(CLOSE_TIMEOUT.toMillis() * 2);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------ the polling thread

    private void loop() {
        try {
            consumer.subscribe(List.of(settings.topic()), new Rebalance());
            while (running) {
                ConsumerRecords<String, byte[]> records = poll();
                for (ConsumerRecord<String, byte[]> r : records) dispatch(r);
                if (settings.commit()) {
                    applyRewinds();
                    resumeRetried();
                    commitFinished(false);
                    pauseOrResume();
                }
            }
            if (settings.commit()) drainAtClose();
        } catch (WakeupException e) {
            if (running) failure = e;
        } catch (RuntimeException | Error e) {
            failure = e;
            LOG.errorf(e, "channel %s: the consumer loop ended", settings.channel());
        } finally {
            running = false;
            try {
                consumer.close(CLOSE_TIMEOUT);
            } catch (RuntimeException e) {
                LOG.warnf("channel %s: closing the consumer: %s", settings.channel(), e.toString());
            }
            if (deadLetters != null) deadLetters.close(CLOSE_TIMEOUT);
        }
    }

    private ConsumerRecords<String, byte[]> poll() {
        try {
            return consumer.poll(settings.pollTimeout());
        } catch (WakeupException e) {
            if (running) throw e;
            return ConsumerRecords.empty();
        }
    }

    /** Reads one record and hands it to the handler; unreadable or failing records go to the dead letters. */
    private void dispatch(ConsumerRecord<String, byte[]> r) {
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        Pending p = settings.commit() ? track(tp, r.offset()) : null;
        T value;
        try {
            value = r.value() == null ? null : deserializer.deserialize(r.topic(), r.headers(), r.value());
        } catch (RuntimeException e) {
            value = null;
            LOG.debugf("channel %s: record %s-%d@%d unreadable: %s", settings.channel(), r.topic(), r.partition(), r.offset(), e.toString());
        }
        if (value == null) {
            fail(r, p, "unreadable record (not a valid " + settings.channel() + " value)");
            return;
        }
        if (PipelineTrace.enabled()) PipelineTrace.mark(PipelineTrace.onPath(value), "polled:" + r.topic());
        CompletionStage<Void> done;
        try {
            done = handler.handle(value, r.key());
        } catch (Exception e) {
            LOG.errorf(e, "channel %s: handler failed on %s-%d@%d", settings.channel(), r.topic(), r.partition(), r.offset());
            fail(r, p, e.toString());
            return;
        }
        if (p == null) return;
        if (done == null) {
            p.done = true;
        } else {
            done.whenComplete((ok, err) -> {
                if (err == null) p.done = true;
                else fail(r, p, err.toString());
            });
        }
    }

    private Pending track(TopicPartition tp, long offset) {
        Pending p = new Pending(offset);
        pending.computeIfAbsent(tp, k -> new ArrayDeque<>()).add(p);
        pendingCount++;
        return p;
    }

    /**
     * Dead-letters a record (any thread). Once the dead-letter write is acknowledged the record counts as
     * finished; if it fails, the partition rewinds to the record.
     */
    private void fail(ConsumerRecord<String, byte[]> r, Pending p, String reason) {
        if (p == null) {
            LOG.warnf("channel %s: skipped record %s-%d@%d: %s", settings.channel(), r.topic(), r.partition(), r.offset(), reason);
            return;
        }
        LOG.warnf("channel %s: record %s-%d@%d to %s: %s", settings.channel(), r.topic(), r.partition(), r.offset(),
                settings.deadLetterTopic(), reason);
        RecordHeaders headers = new RecordHeaders(r.headers().toArray());
        headers.add("dead-letter-reason", reason.getBytes(StandardCharsets.UTF_8));
        headers.add("dead-letter-topic", r.topic().getBytes(StandardCharsets.UTF_8));
        headers.add("dead-letter-partition", Integer.toString(r.partition()).getBytes(StandardCharsets.UTF_8));
        headers.add("dead-letter-offset", Long.toString(r.offset()).getBytes(StandardCharsets.UTF_8));
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        try {
            deadLetters.send(new ProducerRecord<>(settings.deadLetterTopic(), null, r.key(), r.value(), headers), (m, err) -> {
                if (err == null) p.done = true;
                else rewind(tp, r.offset(), err);
            });
        } catch (RuntimeException e) {
            rewind(tp, r.offset(), e);
        }
    }

    private void rewind(TopicPartition tp, long offset, Exception cause) {
        LOG.errorf("channel %s: could not dead-letter %s@%d (%s); the partition rewinds to it", settings.channel(), tp, offset, cause.toString());
        rewinds.add(Map.entry(tp, offset));
    }

    /** Seeks a partition back to a record whose failure could not be recorded, and pauses it for a while. */
    private void applyRewinds() {
        Map.Entry<TopicPartition, Long> w;
        while ((w = rewinds.poll()) != null) {
            TopicPartition tp = w.getKey();
            ArrayDeque<Pending> q = pending.get(tp);
            if (q == null) continue; // revoked meanwhile: the next owner reads it again
            long offset = w.getValue();
            int before = q.size();
            q.removeIf(p -> p.offset >= offset); // handed out again after the seek (redeliveries are recognised by id)
            pendingCount -= before - q.size();
            consumer.seek(tp, offset);
            consumer.pause(List.of(tp));
            retryAt.put(tp, System.nanoTime() + RETRY_PAUSE.toNanos());
        }
    }

    private void resumeRetried() {
        if (retryAt.isEmpty()) return;
        long now = System.nanoTime();
        List<TopicPartition> due = new ArrayList<>();
        retryAt.entrySet().removeIf(e -> {
            if (now - e.getValue() < 0) return false;
            due.add(e.getKey());
            return true;
        });
        if (!due.isEmpty() && !paused) consumer.resume(due);
    }

    /**
     * Commits, per partition, the offset after the longest finished prefix; throttled unless {@code sync}. A failed
     * asynchronous commit is retried with the next one (its callback runs inside {@code poll}, on this thread).
     */
    private void commitFinished(boolean sync) {
        long t = System.nanoTime();
        if (!sync && t - lastCommitNanos < COMMIT_INTERVAL_NANOS) return;
        lastCommitNanos = t;
        for (Map.Entry<TopicPartition, ArrayDeque<Pending>> e : pending.entrySet()) {
            ArrayDeque<Pending> q = e.getValue();
            long next = -1;
            while (!q.isEmpty() && q.peekFirst().done) {
                next = q.pollFirst().offset + 1;
                pendingCount--;
            }
            if (next >= 0) toCommit.put(e.getKey(), next);
        }
        if (toCommit.isEmpty()) return;
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        toCommit.forEach((tp, next) -> offsets.put(tp, new OffsetAndMetadata(next)));
        toCommit.clear();
        if (sync) {
            try {
                consumer.commitSync(offsets, CLOSE_TIMEOUT);
            } catch (RuntimeException e) {
                offsets.forEach((tp, o) -> toCommit.merge(tp, o.offset(), Math::max));
                throw e;
            }
        } else {
            consumer.commitAsync(offsets, (o, err) -> {
                if (err == null) return;
                LOG.debugf("channel %s: commit of %s failed (%s); retried with the next one", settings.channel(), o, err.toString());
                o.forEach((tp, m) -> {
                    if (pending.containsKey(tp)) toCommit.merge(tp, m.offset(), Math::max);
                });
            });
        }
    }

    /** Bounded hand-off: stops fetching while too many records are unfinished. */
    private void pauseOrResume() {
        if (!paused && pendingCount >= settings.maxPending()) {
            consumer.pause(consumer.assignment());
            paused = true;
            LOG.warnf("channel %s: %d records unfinished, pausing", settings.channel(), pendingCount);
        } else if (paused && pendingCount <= settings.maxPending() / 2) {
            List<TopicPartition> resume = new ArrayList<>(consumer.assignment());
            resume.removeAll(retryAt.keySet());
            consumer.resume(resume);
            paused = false;
            LOG.infof("channel %s: resuming", settings.channel());
        }
    }

    /** At close: lets handed-out records finish (bounded) and commits them. */
    private void drainAtClose() {
        long deadline = System.nanoTime() + CLOSE_TIMEOUT.toNanos();
        while (true) {
            try {
                commitFinished(true);
            } catch (WakeupException e) {
                continue; // the wake-up of close() that no poll consumed: once
            }
            if (pendingCount == 0 || System.nanoTime() > deadline) break;
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (pendingCount > 0) LOG.warnf("channel %s: %d records unfinished at close (redelivered later)", settings.channel(), pendingCount);
    }

    /** Runs inside {@code poll}, on the polling thread. */
    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (!settings.commit()) return;
            try {
                commitFinished(true);
            } catch (RuntimeException e) {
                LOG.warnf("channel %s: commit before revocation failed (%s); those records are redelivered", settings.channel(), e.toString());
            }
            forget(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            forget(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            // resolve the start position now: reading from the end, an event written meanwhile would be skipped
            for (TopicPartition tp : partitions) consumer.position(tp);
            if (paused && !partitions.isEmpty()) consumer.pause(partitions);
            if (!consumer.assignment().isEmpty()) {
                assigned = true;
                onAssigned.run();
            }
        }

        private void forget(Collection<TopicPartition> partitions) {
            for (TopicPartition tp : partitions) {
                ArrayDeque<Pending> q = pending.remove(tp);
                if (q != null) pendingCount -= q.size();
                retryAt.remove(tp);
                toCommit.remove(tp);
            }
        }
    }
}
