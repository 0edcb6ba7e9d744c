package dev.jllm.infra;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The real broker and the real database, as the services' tests and ./stack use them. */
class LocalInfraTest {

    @Test
    void brokerCreatesTopicsCarriesRecordsAndStopsWithoutLeftovers(@TempDir Path dir) throws Exception {
        long pid;
        try (KafkaBroker kafka = KafkaBroker.start(dir, 0, List.of("alpha-topic", "beta-topic"), 3)) {
            pid = kafka.pid();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                var desc = admin.describeTopics(List.of("alpha-topic")).allTopicNames().get(20, TimeUnit.SECONDS);
                assertEquals(3, desc.get("alpha-topic").partitions().size());
                assertTrue(admin.listTopics().names().get(20, TimeUnit.SECONDS).contains("beta-topic"));
            }
            try (var producer = new KafkaProducer<>(Map.<String, Object>of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), new StringSerializer(), new StringSerializer())) {
                producer.send(new ProducerRecord<>("alpha-topic", "k", "hello")).get(20, TimeUnit.SECONDS);
            }
            try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                    ConsumerConfig.GROUP_ID_CONFIG, "t",
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), new StringDeserializer())) {
                consumer.subscribe(List.of("alpha-topic"));
                List<String> got = new ArrayList<>();
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (got.isEmpty() && System.nanoTime() < deadline) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) got.add(r.key() + "=" + r.value());
                }
                assertEquals(List.of("k=hello"), got);
            }
        }
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "broker process still alive after close");
    }

    @Test
    void aCrashedBrokerIsReportedNotHungOn(@TempDir Path dir) throws Exception {
        try (KafkaBroker kafka = KafkaBroker.start(dir, 0, List.of("gamma-topic"), 1)) {
            ProcessHandle.of(kafka.pid()).orElseThrow().destroyForcibly();
            kafka.onExit().get(20, TimeUnit.SECONDS);
            assertFalse(kafka.isAlive());
        }
    }

    @Test
    void postgresAnswersQueries(@TempDir Path dir) throws Exception {
        try (Postgres pg = Postgres.start(dir.resolve("pg"), 0)) {
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
                 ResultSet rs = c.createStatement().executeQuery("select 6 * 7")) {
                assertTrue(rs.next());
                assertEquals(42, rs.getInt(1));
            }
        }
    }
}
