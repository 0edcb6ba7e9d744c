package dev.jllm.batching;

import dev.jllm.engine.kv.KvCache;

import java.io.IOException;
import java.util.Optional;

/**
 * Where idle sessions' KV caches are parked when they leave memory (evicted, or the replica shuts down), and
 * restored from when a session's next turn finds no hot cache. Called only on the scheduler's parking thread,
 * one call at a time, in order (so a restore never overtakes the park of the same session).
 */
public interface SessionStore {

    /** A restored cache and the tokens it holds ({@code tokens.length == cache.length()}). */
    record Parked(KvCache cache, int[] tokens) {}

    void park(String sessionId, KvCache cache, int[] tokens) throws IOException;

    /** The parked cache, or empty when there is none or it failed its checksum (the turn then re-prefills). */
    Optional<Parked> restore(String sessionId) throws IOException;
}
