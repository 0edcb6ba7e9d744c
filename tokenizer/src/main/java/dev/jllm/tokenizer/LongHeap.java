package dev.jllm.tokenizer;

import java.util.Arrays;

/**
 * Binary min-heap of primitive longs: the merge queue of the BPE / SPM loops. A key packs
 * (priority in the high 32 bits, left symbol index in the low 32 bits), so the smallest key is the
 * best pair and ties go to the leftmost pair, as in llama.cpp and HF tokenizers.
 */
final class LongHeap {
    private long[] h;
    private int n;

    LongHeap(int capacity) {
        h = new long[Math.max(4, capacity)];
    }

    static long key(int priority, int left) {
        return ((long) priority << 32) | (left & 0xffffffffL);
    }

    static int priority(long key) {
        return (int) (key >> 32);
    }

    static int left(long key) {
        return (int) key;
    }

    /**
     * The smallest non-negative key among keys[i] for i along the list 0, next[0], ... (-1 ends it), or
     * -1: the heap's pop done by a scan, for the short words where a scan is cheaper than the heap.
     */
    static long smallestAlong(long[] keys, int[] next) {
        long best = Long.MAX_VALUE;
        for (int i = 0; i != -1; i = next[i]) {
            long k = keys[i];
            if (k >= 0 && k < best) {
                best = k;
            }
        }
        return best == Long.MAX_VALUE ? -1 : best;
    }

    void clear() {
        n = 0;
    }

    boolean isEmpty() {
        return n == 0;
    }

    void push(long v) {
        if (n == h.length) {
            h = Arrays.copyOf(h, n * 2);
        }
        int i = n++;
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (h[p] <= v) {
                break;
            }
            h[i] = h[p];
            i = p;
        }
        h[i] = v;
    }

    long pop() {
        long top = h[0];
        long v = h[--n];
        int i = 0;
        int half = n >>> 1;
        while (i < half) {
            int c = 2 * i + 1;
            if (c + 1 < n && h[c + 1] < h[c]) {
                c++;
            }
            if (v <= h[c]) {
                break;
            }
            h[i] = h[c];
            i = c;
        }
        if (n > 0) {
            h[i] = v;
        }
        return top;
    }
}
