package dev.jllm.messaging;

import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Message;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Sends a record with a Kafka key and reports the broker's acknowledgement. {@link Emitter#send} only
 * enqueues, so the caller's thread never waits on Kafka; the returned stage fails when the send does
 * (buffer full, broker down), so a lost message becomes an error, never a silent hang.
 */
public final class KeyedSender {
    private KeyedSender() {}

    public static <T> CompletionStage<Void> send(Emitter<T> emitter, T payload, String key) {
        return send(emitter, payload, key, null);
    }

    /** As {@link #send(Emitter, Object, String)}, to {@code topic} instead of the channel's own (null: the channel's). */
    public static <T> CompletionStage<Void> send(Emitter<T> emitter, T payload, String key, String topic) {
        CompletableFuture<Void> acked = new CompletableFuture<>();
        var metadata = OutgoingKafkaRecordMetadata.<String>builder().withKey(key);
        if (topic != null) metadata.withTopic(topic);
        Message<T> msg = Message.of(payload)
                .addMetadata(metadata.build())
                .withAck(() -> {
                    acked.complete(null);
                    return CompletableFuture.completedFuture(null);
                })
                .withNack(e -> {
                    acked.completeExceptionally(e);
                    return CompletableFuture.completedFuture(null);
                });
        try {
            emitter.send(msg);
        } catch (RuntimeException e) {
            acked.completeExceptionally(e);
        }
        return acked;
    }
}
