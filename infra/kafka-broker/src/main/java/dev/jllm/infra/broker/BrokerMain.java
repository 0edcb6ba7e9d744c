package dev.jllm.infra.broker;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Exit;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs a single-node KRaft Kafka broker in this JVM, pre-creates topics, prints {@code READY <bootstrap>}
 * on stdout and then serves until the parent process dies or this JVM is told to stop.
 *
 * <p>Arguments: {@code <dataDir> <port> <controllerPort> <partitions> <parentPid|-> <topic>...}
 */
public final class BrokerMain {
    private BrokerMain() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            System.err.println("usage: BrokerMain <dataDir> <port> <controllerPort> <partitions> <parentPid|-> <topic>...");
            System.exit(2);
        }
        Path dataDir = Path.of(args[0]);
        int port = Integer.parseInt(args[1]);
        int controllerPort = Integer.parseInt(args[2]);
        int partitions = Integer.parseInt(args[3]);
        String parentPid = args[4];
        List<String> topics = List.of(args).subList(5, args.length);

        watchParent(parentPid);
        Path props = writeServerProperties(dataDir, port, controllerPort);
        formatStorage(props, dataDir);

        // kafka.Kafka.main blocks until shutdown: run it on its own thread, exit when it returns
        Thread server = new Thread(() -> {
            kafka.Kafka.main(new String[] {props.toString()});
            System.exit(0);
        }, "kafka-main");
        server.start();

        String bootstrap = "127.0.0.1:" + port;
        createTopics(bootstrap, topics, partitions);
        System.out.println("READY " + bootstrap);
        System.out.flush();
        server.join();
    }

    /** The broker must never outlive the JVM that started it (a crashed test run leaves nothing behind). */
    private static void watchParent(String parentPid) {
        if ("-".equals(parentPid)) return;
        ProcessHandle.of(Long.parseLong(parentPid)).ifPresentOrElse(
                p -> p.onExit().thenRun(() -> {
                    System.err.println("parent process " + parentPid + " exited: stopping the broker");
                    System.exit(0);
                }),
                () -> {
                    System.err.println("parent process " + parentPid + " is gone");
                    System.exit(1);
                });
    }

    private static Path writeServerProperties(Path dataDir, int port, int controllerPort) throws IOException {
        Files.createDirectories(dataDir);
        Properties p = new Properties();
        p.putAll(Map.ofEntries(
                Map.entry("process.roles", "broker,controller"),
                Map.entry("node.id", "1"),
                Map.entry("controller.quorum.voters", "1@127.0.0.1:" + controllerPort),
                Map.entry("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort),
                Map.entry("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port),
                Map.entry("controller.listener.names", "CONTROLLER"),
                Map.entry("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"),
                Map.entry("inter.broker.listener.name", "PLAINTEXT"),
                Map.entry("log.dirs", dataDir.resolve("logs").toString()),
                Map.entry("num.partitions", "1"),
                // single node on 2 cores: keep internal topics small and replication at 1
                Map.entry("offsets.topic.num.partitions", "1"),
                Map.entry("offsets.topic.replication.factor", "1"),
                Map.entry("transaction.state.log.replication.factor", "1"),
                Map.entry("transaction.state.log.min.isr", "1"),
                Map.entry("transaction.state.log.num.partitions", "1"),
                Map.entry("share.coordinator.state.topic.replication.factor", "1"),
                Map.entry("share.coordinator.state.topic.min.isr", "1"),
                Map.entry("group.initial.rebalance.delay.ms", "0"),
                Map.entry("auto.create.topics.enable", "false"),
                Map.entry("num.network.threads", "2"),
                Map.entry("num.io.threads", "2"),
                Map.entry("log.segment.bytes", String.valueOf(64 * 1024 * 1024)),
                Map.entry("log.retention.hours", "24")));
        Path file = dataDir.resolve("server.properties");
        try (Writer w = Files.newBufferedWriter(file)) {
            p.store(w, "jllm local broker");
        }
        return file;
    }

    private static void formatStorage(Path props, Path dataDir) throws IOException {
        // a data directory from an earlier run keeps its cluster id (and its topics and offsets)
        Path meta = dataDir.resolve("logs").resolve("meta.properties");
        String clusterId = org.apache.kafka.common.Uuid.randomUuid().toString();
        if (Files.isRegularFile(meta)) {
            Properties existing = new Properties();
            try (var in = Files.newInputStream(meta)) {
                existing.load(in);
            }
            clusterId = existing.getProperty("cluster.id", clusterId);
        }
        // StorageTool ends with Exit.exit: catch it instead of letting it end this JVM
        List<Integer> codes = new ArrayList<>();
        Exit.setExitProcedure((code, message) -> {
            codes.add(code);
            throw new FormatDone(code, message);
        });
        try {
            kafka.tools.StorageTool.main(new String[] {"format", "-t", clusterId, "-c", props.toString(), "--ignore-formatted"});
        } catch (FormatDone done) {
            if (done.code != 0) throw new IllegalStateException("formatting Kafka storage failed (" + done.code + "): " + done.getMessage());
        } finally {
            Exit.resetExitProcedure();
        }
    }

    private static void createTopics(String bootstrap, List<String> topics, int partitions) throws Exception {
        Properties conf = new Properties();
        conf.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        conf.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        conf.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        try (Admin admin = Admin.create(conf)) {
            List<NewTopic> wanted = topics.stream().map(t -> new NewTopic(t, partitions, (short) 1)).toList();
            try {
                admin.createTopics(wanted).all().get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) throw e;
            }
        }
    }

    private static final class FormatDone extends RuntimeException {
        final int code;

        FormatDone(int code, String message) {
            super(message == null ? "" : message, null, false, false);
            this.code = code;
        }
    }

}
