package dev.jllm.tokenizer;

/**
 * Token text -> id, open addressing. Looks up a region of a string without allocating, so the merge
 * loops can ask "is text[from, to) a token?" in their inner loop. Hash = String.hashCode's polynomial.
 */
final class PieceTable {
    private final String[] keys;   // [capacity]
    private final int[] ids;        // [capacity]
    private final int[] hashes;     // [capacity] String.hashCode of each key: compared before the text
    private final int mask;

    PieceTable(String[] pieces) {
        int cap = Integer.highestOneBit(Math.max(16, pieces.length * 2)) << 1;
        keys = new String[cap];
        ids = new int[cap];
        hashes = new int[cap];
        mask = cap - 1;
        for (int id = 0; id < pieces.length; id++) {
            String p = pieces[id];
            int slot = mix(p.hashCode()) & mask;
            while (keys[slot] != null && !keys[slot].equals(p)) {
                slot = (slot + 1) & mask;
            }
            if (keys[slot] == null) {   // first id wins for duplicate pieces, as llama.cpp's token_to_id
                keys[slot] = p;
                ids[slot] = id;
                hashes[slot] = p.hashCode();
            }
        }
    }

    private static int mix(int h) {   // murmur3 fmix32: String hashes of short strings are clustered
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        return h ^ (h >>> 16);
    }

    int get(String s) {
        return get(s, 0, s.length());
    }

    /** Id of the token whose text is {@code s[from, to)}, or -1. */
    int get(String s, int from, int to) {
        int h = 0;
        for (int i = from; i < to; i++) {
            h = 31 * h + s.charAt(i);
        }
        return get(s, from, to, h);
    }

    /** The same with the region's String.hashCode-style hash already known (merge loops keep it per symbol). */
    int get(String s, int from, int to, int h) {
        int len = to - from;
        int slot = mix(h) & mask;
        String k;
        while ((k = keys[slot]) != null) {
            if (hashes[slot] == h && k.length() == len && k.regionMatches(0, s, from, len)) {
                return ids[slot];
            }
            slot = (slot + 1) & mask;
        }
        return -1;
    }
}
