package dev.jllm.gateway.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Typed configuration of gateway-service ({@code jllm.gateway.*}, or {@code JLLM_GATEWAY_*} variables). */
@ConfigMapping(prefix = "jllm.gateway")
public interface GatewayConfig {

    /**
     * This instance's id: generation events addressed to it are the ones it streams. Defaults to a random
     * id per process (each replica must differ).
     */
    Optional<String> instanceId();

    /** Model names this deployment serves (what {@code GET /v1/models} lists and requests may name). */
    @WithDefault("default")
    List<String> models();

    /** API keys accepted as {@code Authorization: Bearer <key>}; when absent, no key is required. */
    Optional<List<String>> apiKeys();

    /** Requests waiting for or receiving tokens at once; past this the gateway answers 429. */
    @WithDefault("256")
    int maxInFlight();

    /** No first token (or error) within this: 504 (or an SSE error event). */
    @WithDefault("120s")
    Duration firstTokenTimeout();

    /** Silence between two events of a running generation after which it is ended with an error. */
    @WithDefault("60s")
    Duration interTokenTimeout();

    /** Largest request body accepted (413 above). */
    @WithDefault("1048576")
    int maxBodyBytes();

    /** session-service's base URL (sessions and jobs are stored there; the gateway is their public face). */
    @WithDefault("http://localhost:8083")
    String sessionServiceUrl();

    /**
     * Deadline of each call to session-service: reading or deleting a session, and recording a finished turn
     * (the answer's last bytes wait for it, so that an immediate next turn sees it; past it they go anyway).
     */
    @WithDefault("3s")
    Duration sessionServiceTimeout();

    /** Bytes queued to a slow streaming client before the generation is cancelled. */
    @WithDefault("4194304")
    int maxClientBacklogBytes();
}
