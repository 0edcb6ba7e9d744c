package dev.jllm.e2e;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One {@code ./stack} of its own for an end-to-end test class: free ports, its own state directory, the build
 * folder of {@code -Djllm.target}, stories260K from the shared folder, and extra environment (API keys...).
 * {@link #close()} runs {@code ./stack down} and checks that every process is gone.
 */
final class LocalStack implements AutoCloseable {
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(120);

    /** What a {@code ./stack} command printed and how it exited. */
    record Run(int exit, String output) {}

    final Path repo;
    final Path shared;
    final Path model;
    final Path stateDir;
    final int base;
    final Map<String, String> env = new HashMap<>();
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private LocalStack(Map<String, String> extraEnv) throws IOException {
        repo = Path.of(System.getProperty("jllm.repo.dir", "..")).toAbsolutePath().normalize();
        shared = Path.of(System.getProperty("jllm.shared.dir", "../../shared")).toAbsolutePath().normalize();
        model = shared.resolve("models/stories260K/stories260K.gguf");
        assertTrue(Files.isRegularFile(model), "missing " + model + " (../shared must be beside the repository)");
        stateDir = Files.createTempDirectory("jllm-e2e-stack");
        base = freeBlockOfPorts(4);
        env.put("MODEL", model.toString());
        env.put("JLLM_STACK_DIR", stateDir.toString());
        env.put("JLLM_PORT_BASE", String.valueOf(base));
        env.put("JLLM_KAFKA_PORT", String.valueOf(freePort()));
        env.put("JLLM_PG_PORT", String.valueOf(freePort()));
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("JLLM_TARGET", System.getProperty("jllm.target", "target"));
        env.putAll(extraEnv);
    }

    /** A stack's settings (own state folder, ports, model) without starting it: {@code run("up", ...)} does. */
    static LocalStack create(Map<String, String> extraEnv) throws IOException {
        return new LocalStack(extraEnv);
    }

    /** {@code ./stack up} with this extra environment; fails the test with the logs if it does not come up. */
    static LocalStack up(Map<String, String> extraEnv) throws Exception {
        LocalStack s = new LocalStack(extraEnv);
        Run r = s.run("up", Duration.ofMinutes(6));
        if (r.exit != 0) {
            String logs = s.logs();
            s.close();
            fail("./stack up failed:\n" + r.output + logs);
        }
        return s;
    }

    Run run(String command, Duration timeout) throws Exception {
        return run(command, timeout, Map.of());
    }

    /** {@code ./stack COMMAND} with this stack's environment and {@code extraEnv} over it (for this command only). */
    Run run(String command, Duration timeout, Map<String, String> extraEnv) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", repo.resolve("stack").toString()));
        cmd.addAll(List.of(command.split(" ")));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(repo.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.environment().putAll(extraEnv);
        Process p = pb.start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return e.toString();
            }
        });
        if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Run(-1, "timed out after " + timeout + "\n" + out.getNow(""));
        }
        return new Run(p.exitValue(), out.get(10, TimeUnit.SECONDS));
    }

    /** The last lines of every log of the stack. */
    String logs() throws IOException {
        StringBuilder sb = new StringBuilder();
        try (var files = Files.list(stateDir)) {
            for (Path f : files.filter(x -> x.toString().endsWith(".log")).toList()) {
                List<String> lines = Files.readAllLines(f);
                sb.append("\n--- ").append(f.getFileName()).append('\n')
                        .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size())));
            }
        }
        return sb.toString();
    }

    /** The addresses of Kafka and PostgreSQL ({@code infra.env}). */
    Map<String, String> infraEnv() throws IOException {
        Map<String, String> out = new HashMap<>();
        for (String line : Files.readAllLines(stateDir.resolve("infra.env"))) {
            int eq = line.indexOf('=');
            if (eq > 0) out.put(line.substring(0, eq), line.substring(eq + 1));
        }
        return out;
    }

    /** {@code METHOD http://127.0.0.1:<gateway><path>} with a JSON body (or none) and headers (name, value, ...). */
    HttpResponse<String> send(String method, String path, String json, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + base + path)).timeout(REQUEST_TIMEOUT)
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) b.header("Content-Type", "application/json");
        if (headers.length > 0) b.headers(headers);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() throws Exception {
        List<Long> pids = new ArrayList<>();
        try (var files = Files.list(stateDir)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".pid")).toList()) pids.add(Long.parseLong(Files.readString(p).trim()));
        }
        Run r = run("down", Duration.ofMinutes(2));
        assertEquals(0, r.exit, r.output);
        for (long pid : pids) {
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "process " + pid + " survived ./stack down");
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A base port with {@code n} consecutive free ports (the stack's services use base .. base+3). */
    static int freeBlockOfPorts(int n) throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int b = ThreadLocalRandom.current().nextInt(20_000, 60_000);
            boolean ok = true;
            for (int i = 0; i < n && ok; i++) {
                try (ServerSocket s = new ServerSocket(b + i)) {
                    s.setReuseAddress(true);
                } catch (IOException e) {
                    ok = false;
                }
            }
            if (ok) return b;
        }
        throw new IOException("no block of " + n + " free ports");
    }
}
