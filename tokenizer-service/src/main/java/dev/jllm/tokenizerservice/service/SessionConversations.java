package dev.jllm.tokenizerservice.service;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jllm.contracts.ChatMessage;
import dev.jllm.contracts.Json;
import dev.jllm.tokenizerservice.config.TokenizerServiceConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The conversation a chat turn of a session continues, from session-service
 * ({@code POST /internal/v1/sessions/{id}/conversation}, which applies the one rule: the request is the whole
 * history, or only the new messages (appended to the stored conversation), or a rewritten history). Called on a
 * worker thread (blocking HTTP, with a deadline). Any failure, or no session-service configured, means the
 * request is taken as the whole history: a client that sends it is never affected.
 */
@ApplicationScoped
public class SessionConversations {
    private static final Logger LOG = Logger.getLogger(SessionConversations.class);

    @Inject TokenizerServiceConfig config;

    @ConfigProperty(name = "jllm.internal-token")
    Optional<String> token;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** The messages to render for this turn of {@code sessionId}. */
    public List<ChatMessage> continued(String sessionId, List<ChatMessage> messages) {
        Optional<String> url = config.sessionServiceUrl();
        if (url.isEmpty()) return messages;
        String base = url.get().replaceAll("/+$", "");
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(base + "/internal/v1/sessions/"
                        + URLEncoder.encode(sessionId, StandardCharsets.UTF_8).replace("+", "%20") + "/conversation"))
                .timeout(config.sessionServiceTimeout())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(Json.write(Map.of("messages", messages))));
        token.ifPresent(t -> req.header("X-Internal-Token", t));
        try {
            HttpResponse<byte[]> r = http.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() != 200) {
                LOG.warnf("session-service answered %d for the conversation of a session: taking the request as the whole history", r.statusCode());
                return messages;
            }
            JsonNode body = Json.mapper().readTree(r.body());
            List<ChatMessage> continued = Json.mapper().convertValue(body.get("messages"),
                    Json.mapper().getTypeFactory().constructCollectionType(List.class, ChatMessage.class));
            return continued == null || continued.isEmpty() ? messages : continued;
        } catch (IOException | IllegalArgumentException e) {
            LOG.warnf("no conversation from session-service (%s): taking the request as the whole history", e.toString());
            return messages;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return messages;
        }
    }
}
