package dev.jllm.infra;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A real single-node KRaft Kafka broker in a child JVM, started from the jars listed in
 * {@code infra/kafka-broker/target/broker.classpath}. Topics are created before {@link #start} returns. The
 * child watches this JVM and stops when it dies, so a crashed test leaves no broker behind.
 */
public final class KafkaBroker implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(KafkaBroker.class.getName());
    /** Start-up on a loaded 2-core machine takes 3-8 s; past this something is wrong. */
    public static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);

    private final Process process;
    private final String bootstrapServers;
    private final Path logFile;
    private volatile boolean closing;

    private KafkaBroker(Process process, String bootstrapServers, Path logFile) {
        this.process = process;
        this.bootstrapServers = bootstrapServers;
        this.logFile = logFile;
        process.onExit().thenAccept(p -> {
            if (!closing) {
                LOG.log(System.Logger.Level.ERROR, "Kafka broker (pid {0}) died with exit code {1}; its log: {2}",
                        p.pid(), p.exitValue(), logFile);
            }
        });
    }

    /**
     * Starts a broker with its data under {@code workDir}, on {@code port} (0 = any free port), and creates
     * {@code topics} with {@code partitions} partitions each.
     */
    public static KafkaBroker start(Path workDir, int port, List<String> topics, int partitions) {
        return start(workDir, port, topics, partitions, false);
    }

    /**
     * As {@link #start(Path, int, List, int)}; {@code serving} is for a broker that carries traffic for a
     * while ({@code ./stack}): it gets the optimizing JIT (C2), which halves the broker's CPU time per request
     * and so its share of every hop's latency. Tests start many short-lived brokers and stop at C1, which
     * starts faster.
     */
    public static KafkaBroker start(Path workDir, int port, List<String> topics, int partitions, boolean serving) {
        try {
            Files.createDirectories(workDir);
            Path classpathFile = brokerClasspathFile();
            String classpath = Files.readString(classpathFile).trim()
                    + java.io.File.pathSeparator + classpathFile.resolveSibling("classes");
            int kafkaPort = port == 0 ? Ports.free() : port;
            int controllerPort = Ports.free();
            Path logFile = workDir.resolve("kafka.log");
            List<String> cmd = new ArrayList<>(List.of(
                    javaExecutable(), "-Xms256m", "-Xmx768m", "-XX:+UseSerialGC",
                    serving ? "-XX:+TieredCompilation" : "-XX:TieredStopAtLevel=1",
                    "-Djava.awt.headless=true", "-cp", classpath,
                    "dev.jllm.infra.broker.BrokerMain",
                    workDir.resolve("data").toString(), String.valueOf(kafkaPort), String.valueOf(controllerPort),
                    String.valueOf(partitions), String.valueOf(ProcessHandle.current().pid())));
            cmd.addAll(topics);
            Process p = new ProcessBuilder(cmd)
                    .redirectError(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .start();
            String bootstrap = awaitReady(p, logFile);
            LOG.log(System.Logger.Level.INFO, "Kafka broker ready at {0} (pid {1}, log {2})", bootstrap, p.pid(), logFile);
            return new KafkaBroker(p, bootstrap, logFile);
        } catch (IOException e) {
            throw new UncheckedIOException("could not start the Kafka broker", e);
        }
    }

    private static String awaitReady(Process p, Path logFile) {
        CompletableFuture<String> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("READY ")) ready.complete(line.substring(6).trim());
                    // the rest of stdout (format messages) is drained and dropped
                }
                ready.completeExceptionally(new IllegalStateException(
                        "the Kafka broker exited before it was ready; see " + logFile));
            } catch (IOException e) {
                ready.completeExceptionally(e);
            }
        }, "kafka-broker-stdout");
        reader.setDaemon(true);
        reader.start();
        try {
            return ready.get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            p.destroyForcibly();
            throw new IllegalStateException("the Kafka broker was not ready within " + START_TIMEOUT + "; see " + logFile);
        } catch (Exception e) {
            p.destroyForcibly();
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException(cause.getMessage() + tail(logFile), cause);
        }
    }

    private static String tail(Path logFile) {
        try {
            List<String> lines = Files.readAllLines(logFile);
            return "\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException e) {
            return "";
        }
    }

    /** Where the kafka-broker module's build wrote the broker's classpath. */
    static Path brokerClasspathFile() {
        String prop = System.getProperty("jllm.broker.classpath");
        List<Path> candidates = new ArrayList<>();
        if (prop != null) candidates.add(Path.of(prop));
        String repo = System.getProperty("jllm.repo.dir", System.getenv("JLLM_REPO_DIR"));
        if (repo != null) candidates.add(Path.of(repo, "infra/kafka-broker/target/broker.classpath"));
        candidates.add(Path.of("infra/kafka-broker/target/broker.classpath"));
        candidates.add(Path.of("../infra/kafka-broker/target/broker.classpath"));
        candidates.add(Path.of("../kafka-broker/target/broker.classpath"));
        for (Path c : candidates) {
            if (Files.isRegularFile(c)) return c.toAbsolutePath();
        }
        throw new IllegalStateException("the Kafka broker's classpath file was not found (tried " + candidates
                + "); build it with: ./mvnw -pl infra/kafka-broker install");
    }

    static String javaExecutable() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    public CompletableFuture<Process> onExit() {
        return process.onExit();
    }

    public Path logFile() {
        return logFile;
    }

    @Override
    public void close() {
        closing = true;
        if (!process.isAlive()) return;
        process.destroy(); // SIGTERM: Kafka's shutdown hook closes the logs cleanly
        try {
            if (!process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "Kafka broker did not stop within {0}: killing it", STOP_TIMEOUT);
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
