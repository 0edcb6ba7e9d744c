package dev.jllm.messaging;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

import java.time.Duration;
import java.util.Properties;
import java.util.Set;

/**
 * Builds a {@link DirectConsumer} from the service's configuration, {@code jllm.kafka.incoming.<channel>.*}:
 * <pre>
 *   topic              the topic (default: the channel name)
 *   commit             true: commit finished offsets, dead-letter failures (default true)
 *   dead-letter-topic  (default dead-letters)
 *   max-pending        unfinished records before the partitions pause (default 4096)
 *   poll-timeout-ms    (default 100)
 *   any other key      a Kafka consumer property (group.id, auto.offset.reset, fetch.max.wait.ms, ...)
 * </pre>
 * {@code bootstrap.servers} comes from {@code kafka.bootstrap.servers}, as for the messaging layer's channels.
 */
public final class DirectConsumers {
    static final String PREFIX = "jllm.kafka.incoming.";
    private static final Set<String> OWN_KEYS = Set.of("topic", "commit", "dead-letter-topic", "max-pending", "poll-timeout-ms");

    private DirectConsumers() {}

    public static <T> DirectConsumer<T> create(String channel, Deserializer<T> deserializer, DirectConsumer.Handler<T> handler,
                                               Runnable onAssigned) {
        Config config = ConfigProvider.getConfig();
        String prefix = PREFIX + channel + ".";
        String bootstrap = config.getValue("kafka.bootstrap.servers", String.class);
        DirectConsumer.Settings settings = new DirectConsumer.Settings(channel,
                config.getOptionalValue(prefix + "topic", String.class).orElse(channel),
                config.getOptionalValue(prefix + "commit", Boolean.class).orElse(true),
                config.getOptionalValue(prefix + "dead-letter-topic", String.class).orElse("dead-letters"),
                config.getOptionalValue(prefix + "max-pending", Integer.class).orElse(4096),
                Duration.ofMillis(config.getOptionalValue(prefix + "poll-timeout-ms", Long.class).orElse(100L)));

        Properties props = new Properties();
        for (String name : config.getPropertyNames()) {
            if (!name.startsWith(prefix)) continue;
            String key = name.substring(prefix.length());
            if (!OWN_KEYS.contains(key)) props.put(key, config.getValue(name, String.class));
        }
        if (!props.containsKey(ConsumerConfig.GROUP_ID_CONFIG)) {
            throw new IllegalArgumentException(prefix + "group.id is not set");
        }
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "direct-" + channel + "-" + ProcessHandle.current().pid());
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props);

        KafkaProducer<String, byte[]> deadLetters = null;
        if (settings.commit()) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.CLIENT_ID_CONFIG, "dead-letters-" + channel + "-" + ProcessHandle.current().pid());
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "1000");
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            deadLetters = new KafkaProducer<>(p);
        }
        return new DirectConsumer<>(settings, consumer, deadLetters, deserializer, handler, onAssigned);
    }
}
