package dev.jllm.batching;

import dev.jllm.engine.kv.KvCache;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Hot KV caches of idle sessions, under a byte budget, least recently used evicted first. A follow-up turn
 * takes its session's cache out (so one cache is never used by two sequences), reuses the longest common
 * token prefix, and puts it back when the turn ends. Owned by the scheduler thread: no locking.
 */
final class SessionCaches {
    /** A session's cache and the tokens it holds, {@code tokens[0 .. cache.length())}. */
    record Entry(KvCache cache, int[] tokens, long since) {
        Entry(KvCache cache, int[] tokens) {
            this(cache, tokens, System.nanoTime());
        }

        long bytes() {
            return cache.bytes();
        }
    }

    private final long budgetBytes;
    private final LinkedHashMap<String, Entry> idle = new LinkedHashMap<>(64, 0.75f, true);
    private long bytes;
    private long evictions;

    SessionCaches(long budgetBytes) {
        this.budgetBytes = budgetBytes;
    }

    /** Removes and returns the session's cache, or null. */
    Entry take(String sessionId) {
        Entry e = idle.remove(sessionId);
        if (e != null) bytes -= e.bytes();
        return e;
    }

    /**
     * Keeps a finished turn's cache for the session's next turn, evicting the least recently used over budget.
     * Returns what left memory (to be parked), the new entry itself when it alone exceeds the budget.
     */
    Map<String, Entry> put(String sessionId, KvCache cache, int[] tokens) {
        Map<String, Entry> evicted = new LinkedHashMap<>();
        Entry old = idle.remove(sessionId);
        if (old != null) bytes -= old.bytes();
        Entry e = new Entry(cache, tokens);
        if (e.bytes() > budgetBytes) { // larger than the whole budget: not kept hot
            evicted.put(sessionId, e);
            return evicted;
        }
        idle.put(sessionId, e);
        bytes += e.bytes();
        for (Iterator<Map.Entry<String, Entry>> it = idle.entrySet().iterator(); bytes > budgetBytes && it.hasNext(); ) {
            Map.Entry<String, Entry> victim = it.next();
            bytes -= victim.getValue().bytes();
            evicted.put(victim.getKey(), victim.getValue());
            it.remove();
            evictions++;
        }
        return evicted;
    }

    /** Removes and returns the entries idle for at least {@code nanos} (to be parked). */
    Map<String, Entry> idleFor(long nanos) {
        Map<String, Entry> out = new LinkedHashMap<>();
        long now = System.nanoTime();
        for (Iterator<Map.Entry<String, Entry>> it = idle.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Entry> e = it.next(); // access order: the least recently used first
            if (now - e.getValue().since() < nanos) break;
            out.put(e.getKey(), e.getValue());
            bytes -= e.getValue().bytes();
            it.remove();
        }
        return out;
    }

    boolean contains(String sessionId) {
        return idle.containsKey(sessionId);
    }

    /** Removes and returns every entry (shutdown: all of them are parked). */
    Map<String, Entry> drainAll() {
        Map<String, Entry> all = new LinkedHashMap<>(idle);
        idle.clear();
        bytes = 0;
        return all;
    }

    long bytes() {
        return bytes;
    }

    int size() {
        return idle.size();
    }

    long evictions() {
        return evictions;
    }

    /** Length of the longest common prefix of {@code a[0..aLen)} and {@code b}. */
    static int commonPrefix(int[] a, int aLen, int[] b) {
        int n = Math.min(aLen, b.length);
        int i = 0;
        while (i < n && a[i] == b[i]) i++;
        return i;
    }
}
