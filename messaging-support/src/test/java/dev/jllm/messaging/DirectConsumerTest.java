package dev.jllm.messaging;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The consumer loop against Kafka's mock clients: commit order, dead letters, rewinds, bounds, close. */
class DirectConsumerTest {
    private static final String TOPIC = "commands";
    private static final TopicPartition P0 = new TopicPartition(TOPIC, 0);
    private static final Duration WAIT = Duration.ofSeconds(5);

    /** Values are text; "bad" cannot be read. */
    private static final Deserializer<String> TEXT = (topic, data) -> {
        String s = new String(data, StandardCharsets.UTF_8);
        if (s.equals("bad")) throw new IllegalArgumentException("not a command");
        return s;
    };

    /** Every offset committed, in order (also readable once the consumer is closed). */
    private final List<Long> commits = new CopyOnWriteArrayList<>();
    private final MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest") {
        @Override
        public synchronized void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets, Duration timeout) {
            super.commitSync(offsets, timeout);
            commits.add(offsets.get(P0).offset());
        }
    };
    private final MockProducer<String, byte[]> deadLetters = new MockProducer<>(false, null, new StringSerializer(), new ByteArraySerializer());
    private final List<String> handled = new CopyOnWriteArrayList<>();
    private final List<CompletableFuture<Void>> outputs = new CopyOnWriteArrayList<>();
    private DirectConsumer<String> loop;

    /** Starts the loop on one partition and waits for its assignment. */
    private DirectConsumer<String> start(boolean commit, int maxPending) throws InterruptedException {
        DirectConsumer.Settings s = new DirectConsumer.Settings("commands", TOPIC, commit, commit ? "dead-letters" : null,
                maxPending, Duration.ofMillis(5));
        loop = new DirectConsumer<>(s, consumer, commit ? deadLetters : null, TEXT, (value, key) -> {
            if (value.equals("throw")) {
                handled.add(value);
                throw new IllegalStateException("handler refused " + value);
            }
            CompletableFuture<Void> out = new CompletableFuture<>();
            outputs.add(out);
            handled.add(value);
            return out;
        }, null);
        consumer.schedulePollTask(() -> {
            consumer.updateBeginningOffsets(Map.of(P0, 0L));
            consumer.rebalance(List.of(P0));
        });
        loop.start();
        await(loop::assigned, "assignment");
        return loop;
    }

    @AfterEach
    void close() {
        if (loop != null) loop.close();
    }

    private void send(long offset, String value) {
        consumer.schedulePollTask(() -> consumer.addRecord(
                new ConsumerRecord<>(TOPIC, 0, offset, "key-" + offset, value.getBytes(StandardCharsets.UTF_8))));
    }

    /** Reads the mock on the polling thread (it is not meant to be shared between threads). */
    private <R> R onPollThread(java.util.function.Supplier<R> read) {
        CompletableFuture<R> c = new CompletableFuture<>();
        consumer.schedulePollTask(() -> c.complete(read.get()));
        return c.orTimeout(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS).join();
    }

    private Long committed() {
        return onPollThread(() -> {
            OffsetAndMetadata o = consumer.committed(Set.of(P0)).get(P0);
            return o == null ? null : o.offset();
        });
    }

    private long position() {
        return onPollThread(() -> consumer.position(P0));
    }

    private Set<TopicPartition> pausedPartitions() {
        return onPollThread(() -> Set.copyOf(consumer.paused()));
    }

    private static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!cond.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.sleep(2);
        }
    }

    @Test
    void recordsReachTheHandlerInOrderAndCommitOnlyTheFinishedPrefix() throws Exception {
        start(true, 100);
        for (int i = 0; i < 5; i++) send(i, "r" + i);
        await(() -> handled.size() == 5, "five records");
        assertEquals(List.of("r0", "r1", "r2", "r3", "r4"), handled);
        assertNull(committed(), "nothing finished, nothing committed");

        outputs.get(1).complete(null); // out of order: offset 0 still unfinished
        outputs.get(2).complete(null);
        Thread.sleep(3 * DirectConsumer.COMMIT_INTERVAL_NANOS / 1_000_000);
        assertNull(committed(), "offset 0 unfinished: nothing may be committed");

        outputs.get(0).complete(null);
        await(() -> Long.valueOf(3).equals(committed()), "commit of offsets 0-2");
        outputs.get(3).complete(null);
        outputs.get(4).complete(null);
        await(() -> Long.valueOf(5).equals(committed()), "commit of offsets 3-4");
    }

    @Test
    void unreadableAndFailedRecordsGoToTheDeadLettersWithTheReasonAndThePartitionMovesOn() throws Exception {
        start(true, 100);
        send(0, "bad");
        send(1, "throw");
        send(2, "ok");
        await(() -> handled.contains("ok"), "the record after the poison ones");
        await(() -> deadLetters.history().size() == 2, "two dead letters");
        outputs.getLast().completeExceptionally(new IllegalStateException("broker said no"));
        await(() -> deadLetters.history().size() == 3, "the failed output's dead letter");

        List<String> reasons = new ArrayList<>();
        for (ProducerRecord<String, byte[]> r : deadLetters.history()) {
            assertEquals("dead-letters", r.topic());
            reasons.add(new String(r.headers().lastHeader("dead-letter-reason").value(), StandardCharsets.UTF_8));
        }
        assertTrue(reasons.get(0).contains("unreadable"), reasons.get(0));
        assertTrue(reasons.get(1).contains("handler refused throw"), reasons.get(1));
        assertTrue(reasons.get(2).contains("broker said no"), reasons.get(2));
        assertEquals("key-0", deadLetters.history().get(0).key());

        assertNull(committed(), "dead letters not acknowledged yet");
        while (deadLetters.completeNext()) { }
        await(() -> Long.valueOf(3).equals(committed()), "commit past the dead-lettered records");
    }

    @Test
    void aRecordThatCannotEvenBeDeadLetteredIsReadAgain() throws Exception {
        start(true, 100);
        send(0, "throw");
        await(() -> deadLetters.history().size() == 1, "the dead-letter attempt");
        deadLetters.errorNext(new RuntimeException("broker gone"));
        await(() -> position() == 0 && pausedPartitions().contains(P0), "the partition rewound to the record and paused");
        assertNull(committed(), "nothing may be committed past a record whose failure was not recorded");
        send(0, "throw"); // what the broker returns from the rewound position
        await(() -> handled.size() == 2, "the record handed over again after the pause");
        assertEquals(List.of("throw", "throw"), handled);
    }

    @Test
    void tooManyUnfinishedRecordsPauseThePartitionUntilHalfFinished() throws Exception {
        start(true, 4);
        for (int i = 0; i < 4; i++) send(i, "r" + i);
        await(() -> handled.size() == 4, "four records");
        await(() -> pausedPartitions().contains(P0), "pause at 4 unfinished");
        outputs.get(0).complete(null);
        Thread.sleep(3 * DirectConsumer.COMMIT_INTERVAL_NANOS / 1_000_000);
        assertTrue(pausedPartitions().contains(P0), "3 unfinished of 4: still paused");
        outputs.get(1).complete(null);
        await(() -> pausedPartitions().isEmpty(), "resume at half");
    }

    @Test
    void withoutCommitsUnreadableRecordsAreSkippedAndNothingIsCommitted() throws Exception {
        start(false, 100);
        send(0, "bad");
        send(1, "ok");
        await(() -> handled.contains("ok"), "the record after the unreadable one");
        outputs.getFirst().complete(null);
        Thread.sleep(3 * DirectConsumer.COMMIT_INTERVAL_NANOS / 1_000_000);
        assertNull(committed());
        assertEquals(List.of("ok"), handled);
    }

    @Test
    void closeCommitsWhatFinishedAndEndsTheLoop() throws Exception {
        start(true, 100);
        send(0, "r0");
        await(() -> handled.size() == 1, "one record");
        outputs.getFirst().complete(null);
        loop.close();
        assertFalse(loop.running());
        assertNull(loop.failure());
        assertTrue(consumer.closed(), "the consumer is closed");
        assertEquals(List.of(1L), commits, "the finished offset committed synchronously at close");
    }
}
