package dev.jllm.session.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;

/** Typed configuration of session-service ({@code jllm.session.*}). */
@ConfigMapping(prefix = "jllm.session")
public interface SessionConfig {
    /** Sessions idle longer than this are deleted with their snapshots. */
    @WithDefault("24h")
    Duration ttl();

    /** How often expired sessions are deleted. */
    @WithDefault("10m")
    Duration retentionInterval();

    /** Bytes per stored snapshot chunk. */
    @WithDefault("1048576")
    int chunkBytes();
}
