package dev.jllm.testsupport;

import dev.jllm.contracts.Topics;
import dev.jllm.infra.KafkaBroker;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Map;

/** A real Kafka broker (child JVM) with the project's topics, for {@code @QuarkusTest}s. */
public class KafkaResource implements QuarkusTestResourceLifecycleManager {
    private KafkaBroker broker;

    @Override
    public Map<String, String> start() {
        try {
            broker = KafkaBroker.start(Files.createTempDirectory("jllm-kafka"), 0, Topics.ALL, Topics.PARTITIONS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.of("kafka.bootstrap.servers", broker.bootstrapServers());
    }

    @Override
    public void stop() {
        if (broker != null) broker.close();
    }
}
