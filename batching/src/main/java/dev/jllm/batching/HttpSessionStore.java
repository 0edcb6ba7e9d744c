package dev.jllm.batching;

import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.kv.KvCache;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Parks session caches in session-service over its internal HTTP API ({@code PUT/GET
 * /internal/v1/sessions/{id}/snapshot}), streaming: the snapshot
 * ({@code "JSES"}, token count, tokens, then {@link KvCache#writeTo}) is written into the request body as it is
 * serialized, and read back while its SHA-256 is computed; a snapshot that fails the checksum (or its shape
 * check) is treated as missing, and the turn re-prefills: slower, never wrong.
 */
public final class HttpSessionStore implements SessionStore {
    private static final int MAGIC = 0x4A534553; // "JSES"
    /** Parking may take a while (large caches); a restore must answer before the scheduler gives up on it (10 s). */
    private static final Duration PARK_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration RESTORE_TIMEOUT = Duration.ofSeconds(8);

    private final URI base;
    private final String model;
    private final LanguageModel engine;
    private final Optional<String> token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /**
     * @param baseUrl session-service's base URL
     * @param model   the model's name, stored with the session
     * @param token   sent as {@code X-Internal-Token} (session-service's internal API requires it when configured)
     */
    public HttpSessionStore(String baseUrl, String model, LanguageModel engine, Optional<String> token) {
        this.base = URI.create(baseUrl.endsWith("/") ? baseUrl : baseUrl + "/");
        this.model = model;
        this.engine = engine;
        this.token = token;
    }

    private HttpRequest.Builder snapshotRequest(String sessionId) {
        return sessionRequest(sessionId, "/snapshot");
    }

    private HttpRequest.Builder sessionRequest(String sessionId, String suffix) {
        // a path segment: spaces as %20 (URLEncoder's '+' would be a literal plus in a path)
        String segment = URLEncoder.encode(sessionId, StandardCharsets.UTF_8).replace("+", "%20");
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve("internal/v1/sessions/" + segment + suffix));
        token.ifPresent(t -> b.header("X-Internal-Token", t));
        return b;
    }

    /** Deletes the session with its snapshot and conversation (absent: nothing to do). */
    public void delete(String sessionId) throws IOException {
        HttpRequest req = sessionRequest(sessionId, "").timeout(RESTORE_TIMEOUT).DELETE().build();
        try {
            int status = http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status != 200 && status != 404) throw new IOException("session-service answered " + status + " to deleting " + sessionId);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while deleting " + sessionId, e);
        }
    }

    @Override
    public void park(String sessionId, KvCache cache, int[] tokens) throws IOException {
        PipedInputStream body = new PipedInputStream(1 << 20);
        PipedOutputStream sink = new PipedOutputStream(body);
        Thread writer = Thread.ofVirtual().name("park-" + sessionId).start(() -> {
            try (DataOutputStream out = new DataOutputStream(sink)) {
                out.writeInt(MAGIC);
                out.writeInt(tokens.length);
                for (int t : tokens) out.writeInt(t);
                cache.writeTo(out);
            } catch (IOException e) {
                // the request fails with a truncated body; reported below
            }
        });
        HttpRequest req = snapshotRequest(sessionId).timeout(PARK_TIMEOUT)
                .header("Content-Type", "application/octet-stream")
                .header("X-Model", model)
                .header("X-Token-Count", String.valueOf(tokens.length))
                .header("X-Snapshot-Format", "jllm-session-1")
                .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> body)).build();
        try {
            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) throw new IOException("session-service answered " + r.statusCode() + ": " + r.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while parking " + sessionId, e);
        } finally {
            writer.interrupt();
        }
    }

    @Override
    public Optional<Parked> restore(String sessionId) throws IOException {
        HttpRequest req = snapshotRequest(sessionId).timeout(RESTORE_TIMEOUT).GET().build();
        HttpResponse<InputStream> r;
        try {
            r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while restoring " + sessionId, e);
        }
        try (InputStream raw = r.body()) {
            if (r.statusCode() == 404) return Optional.empty();
            if (r.statusCode() != 200) throw new IOException("session-service answered " + r.statusCode());
            String expected = r.headers().firstValue("X-Snapshot-Sha256").orElse("");
            DigestInputStream digest = new DigestInputStream(new BufferedInputStream(raw, 1 << 16), sha256());
            DataInputStream in = new DataInputStream(digest);
            Parked parked;
            try {
                if (in.readInt() != MAGIC) return Optional.empty();
                int n = in.readInt();
                if (n < 0 || n > engine.config().contextLength()) return Optional.empty();
                int[] tokens = new int[n];
                for (int i = 0; i < n; i++) tokens[i] = in.readInt();
                KvCache cache = engine.readCache(in);
                if (cache.length() != n) return Optional.empty();
                parked = new Parked(cache, tokens);
            } catch (IOException | RuntimeException corrupt) {
                return Optional.empty(); // unreadable: rebuild from the prompt
            }
            digest.transferTo(java.io.OutputStream.nullOutputStream());
            String actual = HexFormat.of().formatHex(digest.getMessageDigest().digest());
            return actual.equals(expected) ? Optional.of(parked) : Optional.empty();
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
