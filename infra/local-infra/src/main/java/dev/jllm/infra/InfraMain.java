package dev.jllm.infra;

import dev.jllm.contracts.Topics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the local infrastructure of {@code ./stack up}: a Kafka broker (child JVM) and PostgreSQL, until this
 * JVM is stopped (SIGTERM). Writes {@code <stateDir>/infra.env} (shell syntax) once both are ready. If the
 * broker dies, this process reports it and exits with status 1 instead of hanging.
 *
 * <p>Usage: {@code InfraMain <stateDir> <kafkaPort> <postgresPort>}
 */
public final class InfraMain {
    private InfraMain() {}

    public static void main(String[] args) throws Exception {
        Path state = Path.of(args.length > 0 ? args[0] : ".stack");
        int kafkaPort = args.length > 1 ? Integer.parseInt(args[1]) : 0;
        int pgPort = args.length > 2 ? Integer.parseInt(args[2]) : 0;
        Files.createDirectories(state);

        KafkaBroker kafka = KafkaBroker.start(state.resolve("kafka"), kafkaPort, Topics.ALL, Topics.PARTITIONS, true);
        Postgres pg;
        try {
            pg = Postgres.start(state.resolve("postgres"), pgPort, true); // sessions survive ./stack down + up
        } catch (RuntimeException e) {
            kafka.close();
            throw e;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            // stop order: the services are already stopped by ./stack down; broker and database last
            pg.close();
            kafka.close();
            stopped.countDown();
        }, "infra-stop"));
        kafka.onExit().thenRun(() -> {
            if (stopped.getCount() > 0) {
                System.err.println("FATAL: the Kafka broker exited unexpectedly; see " + kafka.logFile());
                Runtime.getRuntime().halt(1);
            }
        });

        writeEnv(state, kafka, pg);
        System.out.println("infra ready: kafka " + kafka.bootstrapServers() + ", postgres " + pg.jdbcUrl());
        Thread.currentThread().join(); // until SIGTERM
    }

    private static void writeEnv(Path state, KafkaBroker kafka, Postgres pg) throws IOException {
        String env = "KAFKA_BOOTSTRAP_SERVERS=" + kafka.bootstrapServers() + "\n"
                + "JLLM_JDBC_URL=" + pg.jdbcUrl() + "\n"
                + "JLLM_JDBC_USER=" + pg.user() + "\n"
                + "JLLM_JDBC_PASSWORD=" + pg.password() + "\n"
                + "KAFKA_PID=" + kafka.pid() + "\n";
        Path tmp = state.resolve("infra.env.tmp");
        Files.writeString(tmp, env);
        Files.move(tmp, state.resolve("infra.env"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
