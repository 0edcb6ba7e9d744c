package dev.jllm.engine.tensor;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MatOpsTest {
    @Test
    void parallelForCoversEveryIndexOnceForManySizes() {
        int before = MatOps.threads();
        try {
            for (int threads : new int[]{1, 2, 3}) {
                MatOps.setThreads(threads);
                for (int n : new int[]{0, 1, 7, 64, 1000, 4099}) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(n, 1));
                    MatOps.parallelFor(n, 1, (start, end) -> {
                        for (int i = start; i < end; i++) hits.incrementAndGet(i);
                    });
                    for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), threads + " threads, n=" + n + ", index " + i);
                }
            }
        } finally {
            MatOps.setThreads(before);
        }
    }

    @Test
    void failuresReachTheCallerAndNestedCallsRunInline() {
        int before = MatOps.threads();
        try {
            MatOps.setThreads(2);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> MatOps.parallelFor(100, 1, (s, t) -> {
                if (s > 0) throw new IllegalStateException("boom at " + s);
            }));
            assertEquals(true, e.getMessage().startsWith("boom at "));
            AtomicIntegerArray hits = new AtomicIntegerArray(100 * 10);
            MatOps.parallelFor(100, 1, (s, t) -> {
                for (int i = s; i < t; i++) {
                    int row = i;
                    MatOps.parallelFor(10, 1, (a, b) -> {
                        for (int j = a; j < b; j++) hits.incrementAndGet(row * 10 + j);
                    });
                }
            });
            for (int i = 0; i < 1000; i++) assertEquals(1, hits.get(i), "nested index " + i);
            assertThrows(IllegalArgumentException.class, () -> MatOps.setThreads(0));
        } finally {
            MatOps.setThreads(before);
        }
    }
}
