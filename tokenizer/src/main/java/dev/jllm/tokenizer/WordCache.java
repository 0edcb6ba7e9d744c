package dev.jllm.tokenizer;

/**
 * Text piece -> ids (a pre-token of byte-level BPE, a chunk of SPM), bounded: a direct-mapped table
 * (one entry per slot, a new piece evicts the old one), looked up by a region of the text, so a hit
 * allocates nothing. Safe to share between threads without locks: entries are immutable (final fields)
 * and a slot is one reference write; a race at worst recomputes a piece.
 */
final class WordCache {
    private record Entry(char[] key, int hash, int[] ids) {
    }

    private final Entry[] slots;   // [capacity]
    private final int mask;

    WordCache(int capacity) {
        int cap = Integer.highestOneBit(Math.max(16, capacity));
        slots = new Entry[cap];
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

    /** String.hashCode of text[from, to). */
    static int hash(char[] text, int from, int to) {
        int h = 0;
        for (int i = from; i < to; i++) {
            h = 31 * h + text[i];
        }
        return h;
    }

    private int slot(int h) {
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        return (h ^ (h >>> 13)) & mask;
    }

    /** Ids of the piece text[from, to) with hash h, or null. */
    int[] get(String text, int from, int to, int h) {
        Entry e = slots[slot(h)];
        if (e == null || e.hash != h || e.key.length != to - from) {
            return null;
        }
        char[] k = e.key;
        for (int i = 0; i < k.length; i++) {
            if (k[i] != text.charAt(from + i)) {
                return null;
            }
        }
        return e.ids;
    }

    /** Ids of the piece text[from, to) with hash h, or null. */
    int[] get(char[] text, int from, int to, int h) {
        Entry e = slots[slot(h)];
        if (e == null || e.hash != h || e.key.length != to - from) {
            return null;
        }
        char[] k = e.key;
        for (int i = 0; i < k.length; i++) {
            if (k[i] != text[from + i]) {
                return null;
            }
        }
        return e.ids;
    }

    void put(String piece, int h, int[] ids) {
        slots[slot(h)] = new Entry(piece.toCharArray(), h, ids);
    }

    void put(char[] text, int from, int to, int h, int[] ids) {
        slots[slot(h)] = new Entry(java.util.Arrays.copyOfRange(text, from, to), h, ids);
    }
}
