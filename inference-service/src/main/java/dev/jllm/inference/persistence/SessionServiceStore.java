package dev.jllm.inference.persistence;

import dev.jllm.batching.HttpSessionStore;
import dev.jllm.batching.SessionStore;
import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.kv.KvCache;
import org.eclipse.microprofile.config.ConfigProvider;

import java.io.IOException;
import java.util.Optional;

/**
 * Parks session caches in session-service ({@link HttpSessionStore}, the wire format and checksum), with the
 * stack's shared secret from {@code jllm.internal-token} ({@code JLLM_INTERNAL_TOKEN}) when one is configured.
 */
public final class SessionServiceStore implements SessionStore {
    private final HttpSessionStore http;

    public SessionServiceStore(String baseUrl, String model, LanguageModel engine) {
        this.http = new HttpSessionStore(baseUrl, model, engine,
                ConfigProvider.getConfig().getOptionalValue("jllm.internal-token", String.class));
    }

    @Override
    public void park(String sessionId, KvCache cache, int[] tokens) throws IOException {
        http.park(sessionId, cache, tokens);
    }

    @Override
    public Optional<Parked> restore(String sessionId) throws IOException {
        return http.restore(sessionId);
    }
}
