package dev.jllm.tokenizerservice.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.jllm.contracts.ChatMessage;
import dev.jllm.contracts.Json;
import dev.jllm.tokenizerservice.config.TokenizerServiceConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/** Loading the conversation a session's turn continues; every failure falls back to the request as the whole history. */
class SessionConversationsTest {
    static final List<ChatMessage> NEW = List.of(new ChatMessage("user", "And then?"));
    static final List<ChatMessage> CONTINUED = List.of(new ChatMessage("user", "Hi"), new ChatMessage("assistant", "Hello!"),
            new ChatMessage("user", "And then?"));

    HttpServer server;

    @AfterEach
    void stop() {
        if (server != null) server.stop(0);
    }

    static SessionConversations client(String url, Duration timeout) {
        SessionConversations c = new SessionConversations();
        c.token = Optional.of("secret");
        c.config = new TokenizerServiceConfig() {
            public String model() { return "m"; }
            public Optional<Integer> contextLength() { return Optional.empty(); }
            public Optional<String> chatTemplate() { return Optional.empty(); }
            public Optional<String> sessionServiceUrl() { return Optional.ofNullable(url); }
            public Duration sessionServiceTimeout() { return timeout; }
        };
        return c;
    }

    /** A session-service that answers every call with this status and body, after this delay; remembers the last call. */
    String serve(int status, String body, long delayMillis, AtomicReference<String> seen) throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 4);
        server.createContext("/", x -> {
            try (x) {
                seen.set(x.getRequestMethod() + " " + x.getRequestURI().getRawPath() + " token=" + x.getRequestHeaders().getFirst("X-Internal-Token")
                        + " " + new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
                Thread.sleep(delayMillis);
                byte[] b = body.getBytes(StandardCharsets.UTF_8);
                x.sendResponseHeaders(status, b.length);
                x.getResponseBody().write(b);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        server.start();
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/";
    }

    @Test
    void theStoredConversationComesFirst() throws Exception {
        AtomicReference<String> seen = new AtomicReference<>();
        String url = serve(200, new String(Json.write(java.util.Map.of("mode", "new_messages", "messages", CONTINUED)), StandardCharsets.UTF_8), 0, seen);
        assertEquals(CONTINUED, client(url, Duration.ofSeconds(2)).continued("ab12:my session", NEW));
        String call = seen.get();
        assertTrue(call.startsWith("POST /internal/v1/sessions/ab12%3Amy%20session/conversation token=secret "), call);
        JsonNode sent = Json.mapper().readTree(call.substring(call.indexOf('{')));
        assertEquals("And then?", sent.at("/messages/0/content").asText());
    }

    @Test
    void anErrorAnswerMeansTheRequestIsTheWholeHistory() throws Exception {
        String url = serve(500, "{}", 0, new AtomicReference<>());
        assertEquals(NEW, client(url, Duration.ofSeconds(2)).continued("s", NEW));
    }

    @Test
    void aSlowSessionServiceIsGivenUpOnAtTheDeadline() throws Exception {
        String url = serve(200, "{\"messages\":[]}", 3_000, new AtomicReference<>());
        long t0 = System.nanoTime();
        assertEquals(NEW, client(url, Duration.ofMillis(300)).continued("s", NEW));
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(2).toNanos(), "waited past the deadline");
    }

    @Test
    void noSessionServiceOrNoneListeningMeansTheRequestAsGiven() throws Exception {
        assertEquals(NEW, client(null, Duration.ofSeconds(1)).continued("s", NEW));
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        assertEquals(NEW, client("http://127.0.0.1:" + closed, Duration.ofSeconds(1)).continued("s", NEW));
    }
}
