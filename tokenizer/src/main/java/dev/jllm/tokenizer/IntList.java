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

    /** The ids from index {@code from} on. */
    int[] toArray(int from) {
        return Arrays.copyOfRange(a, from, n);
    }
}
