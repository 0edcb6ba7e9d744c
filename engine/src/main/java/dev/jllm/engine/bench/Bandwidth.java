package dev.jllm.engine.bench;

import dev.jllm.engine.tensor.MatOps;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * STREAM-like memory bandwidth: a copy of a buffer much larger than the caches, split across the {@link MatOps}
 * threads, counted as STREAM counts it (bytes read + bytes written), median of several runs. Also a read-only
 * pass (what a matvec does to its weights) for reference.
 *
 * <p>Neither pass goes through the Vector API: C2 profiles the receiver classes inside
 * {@code ByteVector.fromMemorySegment} and the memory-access code under it once for the whole JVM, and a native
 * buffer read there before the model's memory-mapped weights makes every weight kernel's loads polymorphic, measured
 * 3x slower (5.5 vs 16.9 GB/s per core for Q8_0).
 */
public final class Bandwidth {
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;

    /** Result in bytes per second. */
    public record Result(double copyBytesPerSecond, double readBytesPerSecond, long bufferBytes, int runs) {
    }

    private Bandwidth() {
    }

    public static Result measure(long bufferBytes, int runs) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment src = arena.allocate(bufferBytes, 64);
            MemorySegment dst = arena.allocate(bufferBytes, 64);
            src.fill((byte) 1);
            dst.fill((byte) 2); // touch every page before timing
            double[] copy = new double[runs], read = new double[runs];
            for (int run = 0; run < runs; run++) {
                long t0 = System.nanoTime();
                MatOps.parallelFor((int) (bufferBytes >>> 20), 1, (start, end) ->
                        MemorySegment.copy(src, (long) start << 20, dst, (long) start << 20, (long) (end - start) << 20));
                long t1 = System.nanoTime();
                copy[run] = 2.0 * bufferBytes / ((t1 - t0) * 1e-9);
                long[] sink = new long[MatOps.threads() * 4 * 16];
                long t2 = System.nanoTime();
                MatOps.parallelFor((int) (bufferBytes >>> 20), 1, (start, end) -> {
                    // scalar 64-bit reads, four chains: no Vector API load here, whose shared type profile would then
                    // see this native segment next to the mapped weights and slow every kernel down (see class doc)
                    long a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                    for (long o = (long) start << 20; o < (long) end << 20; o += 32) {
                        a0 += src.get(I64, o);
                        a1 += src.get(I64, o + 8);
                        a2 += src.get(I64, o + 16);
                        a3 += src.get(I64, o + 24);
                    }
                    sink[(start * 7) % sink.length] += a0 + a1 + a2 + a3;
                });
                long t3 = System.nanoTime();
                read[run] = (double) bufferBytes / ((t3 - t2) * 1e-9);
                if (Arrays.stream(sink).sum() == 42) System.out.print(""); // keep the reads alive
            }
            return new Result(median(copy), median(read), bufferBytes, runs);
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
