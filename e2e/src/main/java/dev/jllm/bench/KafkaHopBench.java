package dev.jllm.bench;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The floor under every hop of the pipeline: how long one record takes from {@code send} to a consumer's
 * {@code poll} on this broker, with the settings the services use ({@code linger.ms=0}, {@code acks=all},
 * {@code fetch.min.bytes=1}). Records go one at a time with a pause between them (as requests do), after a
 * warm-up that lets the JIT compile the clients' paths. Uses a topic of its own, deleted afterwards.
 *
 * <pre>bin/kafka-hop-bench [--bootstrap 127.0.0.1:9092] [--samples 2000] [--warmup 500] [--pause-ms 1] [--partitions 1]</pre>
 */
public final class KafkaHopBench {
    private KafkaHopBench() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> a = StackBench.parse(args);
        String bootstrap = a.getOrDefault("bootstrap", "127.0.0.1:9092");
        int samples = Integer.parseInt(a.getOrDefault("samples", "2000"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "500"));
        long pauseMs = Long.parseLong(a.getOrDefault("pause-ms", "1"));
        int partitions = Integer.parseInt(a.getOrDefault("partitions", "1"));
        String topic = "jllm-hop-probe-" + UUID.randomUUID().toString().substring(0, 8);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
            try {
                long[] nanos = measure(bootstrap, topic, warmup, samples, pauseMs);
                Arrays.sort(nanos);
                System.out.printf(Locale.ROOT, "kafka produce->consume, %d samples after %d warm-up (pause %d ms): "
                                + "p50 %.3f ms, p90 %.3f ms, p99 %.3f ms (%d partitions)%n", samples, warmup, pauseMs,
                        StackBench.pct(nanos, 50) / 1e6, StackBench.pct(nanos, 90) / 1e6, StackBench.pct(nanos, 99) / 1e6, partitions);
            } finally {
                admin.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
            }
        }
    }

    static long[] measure(String bootstrap, String topic, int warmup, int samples, long pauseMs) throws Exception {
        Map<String, Object> producerConfig = Map.of("bootstrap.servers", bootstrap, "linger.ms", "0", "acks", "all");
        Map<String, Object> consumerConfig = Map.of("bootstrap.servers", bootstrap, "group.id", topic,
                "auto.offset.reset", "latest", "fetch.min.bytes", "1", "fetch.max.wait.ms", "500");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig, new StringSerializer(), new StringSerializer());
             KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (consumer.assignment().isEmpty()) {
                if (System.nanoTime() > deadline) throw new IllegalStateException("no partition assigned within 30 s");
                consumer.poll(Duration.ofMillis(50));
            }
            consumer.seekToEnd(consumer.assignment());
            consumer.assignment().forEach(consumer::position);
            long[] out = new long[samples];
            for (int i = 0; i < warmup + samples; i++) {
                String value = Integer.toString(i);
                long t0 = System.nanoTime();
                producer.send(new ProducerRecord<>(topic, "k" + i, value)); // keys spread over the partitions
                if (!awaitValue(consumer, value)) throw new IllegalStateException("record " + i + " not consumed within 10 s");
                if (i >= warmup) out[i - warmup] = System.nanoTime() - t0;
                if (pauseMs > 0) Thread.sleep(pauseMs);
            }
            return out;
        }
    }

    private static boolean awaitValue(KafkaConsumer<String, String> consumer, String value) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                if (r.value().equals(value)) return true;
            }
        }
        return false;
    }
}
