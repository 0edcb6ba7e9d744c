package dev.jllm.tokenizer;

/**
 * Token text -> id, open addressing. Looks up a region of a string or char array without allocating,
 * so the merge loops can ask "is text[from, to) a token?" in their inner loop. The texts of all tokens
 * lie in one char pool and a slot is one long (hash, id + 1): a probe touches one array and the pool,
 * never a String object. Hash = String.hashCode's polynomial.
 */
final class PieceTable {
    private final char[] pool;       // [sum of piece lengths] the texts of all pieces, id order
    private final int[] start;       // [n_vocab + 1] pool offset of each piece
    private final long[] slots;      // [capacity] String.hashCode of the piece << 32 | (id + 1); 0 = empty
    private final int mask;

    PieceTable(String[] pieces) {
        start = new int[pieces.length + 1];
        for (int id = 0; id < pieces.length; id++) {
            start[id + 1] = start[id] + pieces[id].length();
        }
        pool = new char[start[pieces.length]];
        for (int id = 0; id < pieces.length; id++) {
            pieces[id].getChars(0, pieces[id].length(), pool, start[id]);
        }
        int cap = Integer.highestOneBit(Math.max(16, pieces.length * 2)) << 1;
        slots = new long[cap];
        mask = cap - 1;
        for (int id = 0; id < pieces.length; id++) {
            String p = pieces[id];
            int h = p.hashCode();
            int slot = mix(h) & mask;
            boolean duplicate = false;
            while (slots[slot] != 0) {
                if (hash(slots[slot]) == h && pieces[id(slots[slot])].equals(p)) {
                    duplicate = true;   // first id wins for duplicate pieces, as llama.cpp's token_to_id
                    break;
                }
                slot = (slot + 1) & mask;
            }
            if (!duplicate) {
                slots[slot] = ((long) h << 32) | (id + 1);
            }
        }
    }

    private static int hash(long slot) {
        return (int) (slot >>> 32);
    }

    private static int id(long slot) {
        return (int) slot - 1;
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
        for (int slot = mix(h) & mask; ; slot = (slot + 1) & mask) {
            long e = slots[slot];
            if (e == 0) {
                return -1;
            }
            int id = id(e);
            if (hash(e) == h && start[id + 1] - start[id] == len && regionEquals(s, from, start[id], len)) {
                return id;
            }
        }
    }

    /** Id of the token whose text is {@code a[from, to)} with hash h, or -1. */
    int get(char[] a, int from, int to, int h) {
        int len = to - from;
        for (int slot = mix(h) & mask; ; slot = (slot + 1) & mask) {
            long e = slots[slot];
            if (e == 0) {
                return -1;
            }
            int id = id(e);
            if (hash(e) == h && start[id + 1] - start[id] == len && regionEquals(a, from, start[id], len)) {
                return id;
            }
        }
    }

    private boolean regionEquals(char[] a, int from, int p, int len) {
        for (int i = 0; i < len; i++) {
            if (a[from + i] != pool[p + i]) {
                return false;
            }
        }
        return true;
    }

    private boolean regionEquals(String s, int from, int p, int len) {
        for (int i = 0; i < len; i++) {
            if (s.charAt(from + i) != pool[p + i]) {
                return false;
            }
        }
        return true;
    }
}
