package dev.jllm.engine.bench;

import dev.jllm.engine.tensor.MatOps;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * STREAM-like memory bandwidth: a copy of a buffer much larger than the caches, split across the {@link MatOps}
 * threads, counted as STREAM counts it (bytes read + bytes written), median of several runs. Also a read-only
 * pass (what a matvec does to its weights) for reference.
 */
public final class Bandwidth {
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_PREFERRED;

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
                    ByteVector acc = ByteVector.zero(B);
                    for (long o = (long) start << 20; o < (long) end << 20; o += B.length()) {
                        acc = acc.add(ByteVector.fromMemorySegment(B, src, o, ByteOrder.LITTLE_ENDIAN));
                    }
                    sink[(start * 7) % sink.length] += acc.reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
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
