package dev.jllm.gateway.service;

import dev.jllm.contracts.GenerationEvent;
import dev.jllm.gateway.config.GatewayConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The requests this gateway instance is streaming, by request id. Bounded: past
 * {@link GatewayConfig#maxInFlight()} a new request is refused (429), never queued without limit.
 * A request is registered BEFORE its record is produced, so no event can arrive unseen.
 */
@ApplicationScoped
public class InFlightRequests {
    private final ConcurrentHashMap<String, GenerationListener> listeners = new ConcurrentHashMap<>();
    private final AtomicInteger count = new AtomicInteger();
    private final int limit;

    @Inject
    public InFlightRequests(GatewayConfig config) {
        this.limit = config.maxInFlight();
    }

    /** Registers a request; false when the gateway is at its limit (the caller answers 429). */
    public boolean register(String requestId, GenerationListener listener) {
        if (count.incrementAndGet() > limit) {
            count.decrementAndGet();
            return false;
        }
        if (listeners.putIfAbsent(requestId, listener) != null) {
            count.decrementAndGet();
            throw new IllegalStateException("request id already in flight: " + requestId);
        }
        return true;
    }

    public void remove(String requestId) {
        if (listeners.remove(requestId) != null) count.decrementAndGet();
    }

    /** Routes an event to its request; events of requests this instance does not hold are dropped. */
    public boolean dispatch(GenerationEvent event) {
        GenerationListener l = listeners.get(event.requestId());
        if (l == null) return false;
        l.onEvent(event);
        return true;
    }

    public int size() {
        return count.get();
    }
}
