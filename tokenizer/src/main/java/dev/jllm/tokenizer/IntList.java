package dev.jllm.tokenizer;

import java.util.Arrays;

/** Growable int array: token ids without boxing. */
final class IntList {
    private int[] a;
    private int n;

    IntList(int capacity) {
        a = new int[Math.max(4, capacity)];
    }

    void add(int v) {
        if (n == a.length) {
            a = Arrays.copyOf(a, a.length * 2);
        }
        a[n++] = v;
    }

    int size() {
        return n;
    }

    int get(int i) {
        return a[i];
    }

    int last() {
        return a[n - 1];
    }

    int[] toArray() {
        return Arrays.copyOf(a, n);
    }

    /** Appends src[from, to). */
    void addAll(int[] src, int from, int to) {
        int k = to - from;
        if (n + k > a.length) {
            a = Arrays.copyOf(a, Math.max(a.length * 2, n + k));
        }
        System.arraycopy(src, from, a, n, k);
        n += k;
    }

    /** Copies this[from, from + count) to dst[dstPos, ...). */
    void copyTo(int from, int[] dst, int dstPos, int count) {
        System.arraycopy(a, from, dst, dstPos, count);
    }
}
