package dev.jllm.tokenizer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Text piece -> ids (a pre-token of byte-level BPE, a chunk of SPM), bounded: a direct-mapped table
 * (one entry per slot, a new piece evicts the old one), looked up by a region of the text, so a hit
 * allocates nothing. An entry is one int array {@code [hash, key length, key chars..., ids...]}: a hit
 * reads one object. Safe to share between threads without locks: an entry is filled before a release
 * store publishes it and read with an acquire load, a slot is one reference write, and a race at worst
 * recomputes a piece.
 */
final class WordCache {
    private static final int HEADER = 2;   // hash, key length
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(int[][].class);

    private final int[][] slots;   // [capacity][HEADER + key length + n_ids]
    private final int mask;

    WordCache(int capacity) {
        int cap = Integer.highestOneBit(Math.max(16, capacity));
        slots = new int[cap][];
        mask = cap - 1;
    }

    /** String.hashCode of text[from, to). */
    static int hash(String text, int from, int to) {
        int h = 0;
        for (int i = from; i < to; i++) {
            h = 31 * h + text.charAt(i);
        }
        return h;
    }

    private int slot(int h) {
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        return (h ^ (h >>> 13)) & mask;
    }

    /** Appends the ids of the piece text[from, to) with hash h; false if it is not cached. */
    boolean appendTo(String text, int from, int to, int h, IntList out) {
        int[] d = (int[]) SLOT.getAcquire(slots, slot(h));
        if (d == null) {
            return false;
        }
        int n = to - from;
        if (d[0] != h || d[1] != n) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (d[HEADER + i] != text.charAt(from + i)) {
                return false;
            }
        }
        out.addAll(d, HEADER + n, d.length);
        return true;
    }

    /** Caches the ids out[idsFrom, size) of the piece text[from, to) with hash h. */
    void put(String text, int from, int to, int h, IntList out, int idsFrom) {
        int n = to - from;
        int ids = out.size() - idsFrom;
        int[] d = new int[HEADER + n + ids];
        d[0] = h;
        d[1] = n;
        for (int i = 0; i < n; i++) {
            d[HEADER + i] = text.charAt(from + i);
        }
        out.copyTo(idsFrom, d, HEADER + n, ids);
        SLOT.setRelease(slots, slot(h), d);
    }
}
