package dev.jllm.messaging;

import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import io.smallrye.reactive.messaging.kafka.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Sends a channel's records with the Kafka producer SmallRye built for that channel (its serializers, settings and
 * interceptors), on the caller's thread. SmallRye's own path goes emitter -> its sending thread -> the producer:
 * one more thread hand-off per record, which costs 0.3-0.5 ms of each hop's latency on a busy 2-core machine
 * ({@code bin/trace-report}). {@code KafkaProducer.send} only appends to the producer's buffer once the topic's
 * partitions are known, so {@link #warm} fetches them first, and the channel keeps them ({@code metadata.max.idle.ms}
 * of a day: by default the producer forgets a topic after 5 idle minutes and the next send would wait for its
 * metadata on the caller's thread). With {@code max.block.ms} set low on the channel, a send can never hold the
 * caller (an event loop, the scheduler) for long even when the broker is gone or the producer's buffer is full:
 * it fails, and the failure reaches the returned stage as with {@link KeyedSender}. The topic is the channel's
 * own ({@code mp.messaging.outgoing.<channel>.topic}, else the channel name, as SmallRye does), or one of the
 * {@code otherTopics} named at construction ({@link #sendTo}; their metadata is loaded by {@link #warm} too), with
 * the same producer: no second I/O thread.
 *
 * <p>The path is chosen once, by the first {@link #warm} or send: direct when the producer could be reached,
 * otherwise the emitter for good (logged; a broker that is still down after {@link #WARM_TIMEOUT} at start-up
 * costs the direct path until the service restarts). Never both, so records with one key stay in order.
 */
public final class DirectSender<T> {
    private static final Logger LOG = Logger.getLogger(DirectSender.class);
    static final Duration WARM_TIMEOUT = Duration.ofSeconds(10);

    private final KafkaClientService clients;
    private final String channel;
    private final String topic;
    private final List<String> otherTopics;
    private final Emitter<T> emitter;
    private volatile Producer<String, T> producer; // set once decided; null with `decided` = use the emitter
    private volatile boolean decided;

    public DirectSender(KafkaClientService clients, String channel, Emitter<T> emitter, String... otherTopics) {
        this.clients = clients;
        this.otherTopics = List.of(otherTopics);
        this.channel = channel;
        this.topic = ConfigProvider.getConfig().getOptionalValue("mp.messaging.outgoing." + channel + ".topic", String.class)
                .orElse(channel);
        this.emitter = emitter;
    }

    /** Chooses the path (at start-up, so that the first request does not pay for it). Idempotent. */
    public synchronized void warm() {
        if (decided) return;
        try {
            KafkaProducer<String, T> p = clients.getProducer(channel);
            if (p == null) throw new IllegalStateException("no Kafka producer for channel " + channel);
            int partitions = partitions(p, topic);
            for (String other : otherTopics) partitions(p, other);
            producer = p.unwrap();
            if (producer == null) throw new IllegalStateException("the producer of channel " + channel + " was not created");
            LOG.infof("channel %s: records go straight to the Kafka producer (topic %s, %d partitions%s)", channel, topic,
                    partitions, otherTopics.isEmpty() ? "" : "; also " + String.join(", ", otherTopics));
        } catch (RuntimeException e) {
            producer = null;
            LOG.warnf("channel %s: sending through the messaging emitter (the producer could not be reached: %s)", channel, e.toString());
        }
        decided = true;
    }

    /**
     * Creates the producer and loads the topic's metadata. Each try waits at most the channel's {@code max.block.ms}
     * (kept low, see the class comment), which a JVM's first producer can need more than once at start-up: tries
     * again until {@link #WARM_TIMEOUT}.
     */
    private int partitions(KafkaProducer<String, T> p, String topic) {
        long deadline = System.nanoTime() + WARM_TIMEOUT.toNanos();
        while (true) {
            try {
                return p.partitionsFor(topic).await().atMost(WARM_TIMEOUT).size();
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadline) throw e;
                LOG.debugf("channel %s: no metadata for %s yet (%s), trying again", channel, topic, e.toString());
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** Sends {@code payload} keyed by {@code key}; the stage completes when the broker acknowledged it. */
    public CompletionStage<Void> send(T payload, String key) {
        return sendTo(topic, payload, key);
    }

    /** As {@link #send}, to {@code topic}: the channel's own or one of the {@code otherTopics}. */
    public CompletionStage<Void> sendTo(String topic, T payload, String key) {
        if (!topic.equals(this.topic) && !otherTopics.contains(topic)) {
            throw new IllegalArgumentException("channel " + channel + " does not send to topic " + topic);
        }
        if (!decided) warm();
        Producer<String, T> p = producer;
        if (p == null) return KeyedSender.send(emitter, payload, key, topic.equals(this.topic) ? null : topic);
        CompletableFuture<Void> acked = new CompletableFuture<>();
        try {
            p.send(new ProducerRecord<>(topic, key, payload), (metadata, error) -> {
                if (error == null) acked.complete(null);
                else acked.completeExceptionally(error);
            });
        } catch (RuntimeException e) { // serialization, a closed producer, a full buffer past max.block.ms
            acked.completeExceptionally(e);
        }
        return acked;
    }
}
