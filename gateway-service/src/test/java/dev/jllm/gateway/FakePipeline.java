package dev.jllm.gateway;

import dev.jllm.contracts.CompletionRequested;
import dev.jllm.contracts.GenerationEvent;
import dev.jllm.contracts.InferenceCommand;
import dev.jllm.contracts.Json;
import dev.jllm.contracts.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The rest of the pipeline, played by the test against the real broker: reads what the gateway produces
 * ({@code completion-requests}, {@code inference-commands}) and writes the generation events it would get
 * back from tokenizer- and inference-service. Every wait has a deadline.
 */
final class FakePipeline implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(30);

    /** A record the gateway produced: its Kafka key and value. */
    record Keyed<T>(String key, T value) {}

    private final KafkaConsumer<String, byte[]> requests;
    private final KafkaConsumer<String, byte[]> commands;
    private final KafkaProducer<String, byte[]> events;
    private final List<Keyed<CompletionRequested>> seenRequests = new ArrayList<>();
    private final List<Keyed<InferenceCommand>> seenCommands = new ArrayList<>();

    FakePipeline(String bootstrap) {
        requests = consumerAtEnd(bootstrap, Topics.COMPLETION_REQUESTS);
        commands = consumerAtEnd(bootstrap, Topics.INFERENCE_COMMANDS);
        events = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.LINGER_MS_CONFIG, 0), new StringSerializer(), new ByteArraySerializer());
    }

    /** Assigned to every partition (no group: no rebalance wait) and positioned at the current end. */
    private static KafkaConsumer<String, byte[]> consumerAtEnd(String bootstrap, String topic) {
        var c = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20), new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> parts = c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        c.assign(parts);
        c.seekToEnd(parts);
        for (TopicPartition tp : parts) c.position(tp, Duration.ofSeconds(30)); // resolve "end" now, not at first poll
        return c;
    }

    /** The first not yet taken request the gateway produced that matches; fails after {@link #WAIT}. */
    Keyed<CompletionRequested> awaitRequest(Predicate<CompletionRequested> match) {
        return await(requests, seenRequests, CompletionRequested.class, k -> match.test(k.value()), "a CompletionRequested");
    }

    /** The chat request whose first message has this content. */
    Keyed<CompletionRequested> awaitChat(String firstMessage) {
        return awaitRequest(r -> r.messages() != null && firstMessage.equals(r.messages().getFirst().content()));
    }

    /** The legacy completion request with this prompt. */
    Keyed<CompletionRequested> awaitPrompt(String prompt) {
        return awaitRequest(r -> prompt.equals(r.prompt()));
    }

    /** The first command on inference-commands about this request. */
    Keyed<InferenceCommand> awaitCommand(String requestId) {
        return await(commands, seenCommands, InferenceCommand.class, k -> requestId.equals(k.value().requestId()),
                "an inference command for " + requestId);
    }

    /** The first inference command (with its Kafka key) that matches. */
    Keyed<InferenceCommand> awaitCommandMatching(Predicate<Keyed<InferenceCommand>> match, String what) {
        return await(commands, seenCommands, InferenceCommand.class, match, what);
    }

    /** Every command about this request seen within {@code window} (for "nothing was sent" checks). */
    List<InferenceCommand> commandsWithin(String requestId, Duration window) {
        long deadline = System.nanoTime() + window.toNanos();
        while (System.nanoTime() < deadline) drain(commands, seenCommands, InferenceCommand.class, Duration.ofMillis(100));
        return seenCommands.stream().map(Keyed::value).filter(c -> requestId.equals(c.requestId())).toList();
    }

    private static <T> Keyed<T> await(KafkaConsumer<String, byte[]> consumer, List<Keyed<T>> seen, Class<T> type,
                                      Predicate<Keyed<T>> match, String what) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            for (int i = 0; i < seen.size(); i++) {
                if (match.test(seen.get(i))) return seen.remove(i);
            }
            if (System.nanoTime() > deadline) throw new AssertionError("no " + what + " within " + WAIT + "; saw " + seen);
            drain(consumer, seen, type, Duration.ofMillis(100));
        }
    }

    private static <T> void drain(KafkaConsumer<String, byte[]> consumer, List<Keyed<T>> seen, Class<T> type, Duration poll) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(poll)) seen.add(new Keyed<>(r.key(), Json.read(r.value(), type)));
    }

    /** Writes an event to generation-events, keyed by its request id as inference-service does; waits for the ack. */
    void send(GenerationEvent event) {
        try {
            events.send(new ProducerRecord<>(Topics.GENERATION_EVENTS, event.requestId(), Json.write(event)))
                    .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("could not produce " + event, e);
        }
    }

    @Override
    public void close() {
        requests.close(Duration.ofSeconds(5));
        commands.close(Duration.ofSeconds(5));
        events.close(Duration.ofSeconds(5));
    }
}
