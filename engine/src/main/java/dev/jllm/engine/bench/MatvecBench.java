package dev.jllm.engine.bench;

import dev.jllm.engine.tensor.MatOps;
import dev.jllm.engine.tensor.Quantize;
import dev.jllm.engine.tensor.WeightMatrices;
import dev.jllm.engine.tensor.WeightMatrix;
import dev.jllm.gguf.GgmlType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Kernel-only decode benchmark: the weight matrices of a dense model shape (per layer wq, wk, wv, wo, w1, w3, w2,
 * then the output projection), random weights in native memory, one "token" = one matvec through each of them
 * in order. Measures tokens/s for a batch of {@code n} inputs and compares the weight bytes streamed per step
 * with the measured memory bandwidth. No attention, norms or activations: this is the upper bound the forward
 * pass can reach.
 */
public final class MatvecBench {

    /** One weight matrix of the shape, named with paper names. */
    record Mat(String name, WeightMatrix w, long bytes) {
    }

    private MatvecBench() {
    }

    /** The matrices one decode step streams for a dense shape (MoE shapes: the {@code expertsUsed} experts). */
    static List<Mat> build(Shapes s, GgmlType type, Arena arena, long seed) {
        List<Mat> mats = new ArrayList<>();
        int q = s.heads() * s.headDim(), kv = s.kvHeads() * s.headDim();
        int ffnCopies = s.experts() > 0 ? s.expertsUsed() : 1;
        for (int l = 0; l < s.layers(); l++) {
            mats.add(make("wq", type, q, s.dim(), arena, seed++));
            mats.add(make("wk", type, kv, s.dim(), arena, seed++));
            mats.add(make("wv", type, kv, s.dim(), arena, seed++));
            mats.add(make("wo", type, s.dim(), q, arena, seed++));
            for (int e = 0; e < ffnCopies; e++) {
                mats.add(make("w1", type, s.ffn(), s.dim(), arena, seed++));
                mats.add(make("w3", type, s.ffn(), s.dim(), arena, seed++));
                mats.add(make("w2", type, s.dim(), s.ffn(), arena, seed++));
            }
        }
        mats.add(make("output", type, s.vocab(), s.dim(), arena, seed));
        return mats;
    }

    /** Random weights (std 0.02) quantized once for a pattern of rows, then the pattern repeated over the matrix. */
    static Mat make(String name, GgmlType type, int rows, int cols, Arena arena, long seed) {
        long rowBytes = type.bytesFor(cols);
        MemorySegment data = arena.allocate(rowBytes * rows, 64);
        int patternRows = Math.min(rows, 61);
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] row = new float[cols];
        for (int r = 0; r < patternRows; r++) {
            for (int c = 0; c < cols; c++) row[c] = (float) (rnd.nextDouble() * 2 - 1) * 0.0346f; // uniform, std 0.02
            Quantize.row(type, row, 0, cols, data, r * rowBytes);
        }
        for (int r = patternRows; r < rows; r += patternRows) {
            long n = Math.min(patternRows, rows - r) * rowBytes;
            MemorySegment.copy(data, 0, data, r * rowBytes, n);
        }
        return new Mat(name, WeightMatrices.of(type, data, rows, cols), rowBytes * rows);
    }

    /** Median wall seconds of one step and the process CPU seconds per step (median), for {@code n} inputs. */
    record Step(double wallSeconds, double cpuSeconds) {
    }

    static long processCpuNanos() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /** One step = one pass over all matrices for {@code n} inputs; medians over {@code steps}. */
    static Step stepSeconds(List<Mat> mats, int n, int steps) {
        int maxCols = 0, maxRows = 0;
        for (Mat m : mats) {
            maxCols = Math.max(maxCols, m.w().cols());
            maxRows = Math.max(maxRows, m.w().rows());
        }
        float[] x = new float[n * maxCols];   // [n][maxCols]
        SplittableRandom rnd = new SplittableRandom(1);
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        float[] out = new float[n * maxRows]; // [n][maxRows]
        double[] times = new double[steps], cpu = new double[steps];
        for (int step = 0; step < steps; step++) {
            long c0 = processCpuNanos();
            long t0 = System.nanoTime();
            for (Mat m : mats) {
                if (n == 1) MatOps.matvec(m.w(), x, 0, out, 0);
                else MatOps.matmul(m.w(), x, n, out);
            }
            times[step] = (System.nanoTime() - t0) * 1e-9;
            cpu[step] = (processCpuNanos() - c0) * 1e-9;
        }
        return new Step(Bandwidth.median(times), Bandwidth.median(cpu));
    }

    /** Runs the benchmark and returns its JSON line. */
    public static String run(Shapes shape, GgmlType type, int[] batches, int steps, Bandwidth.Result bw) {
        try (Arena arena = Arena.ofShared()) {
            long t0 = System.nanoTime();
            List<Mat> mats = build(shape, type, arena, 42);
            double buildSeconds = (System.nanoTime() - t0) * 1e-9;
            long bytes = mats.stream().mapToLong(Mat::bytes).sum();
            for (int n : batches) stepSeconds(mats, n, 2); // warm up the JIT
            StringBuilder json = new StringBuilder();
            json.append(String.format(Locale.ROOT,
                    "{\"bench\":\"matvec\",\"shape\":\"%s\",\"type\":\"%s\",\"threads\":%d,\"weight_bytes_per_step\":%d,"
                            + "\"copy_bandwidth_gb_s\":%.2f,\"read_bandwidth_gb_s\":%.2f,\"bound_tokens_per_s\":%.3f,\"setup_s\":%.1f",
                    shape.name(), type, MatOps.threads(), bytes, bw.copyBytesPerSecond() / 1e9,
                    bw.readBytesPerSecond() / 1e9, bw.copyBytesPerSecond() / bytes, buildSeconds));
            double single = 0;
            for (int n : batches) {
                Step st = stepSeconds(mats, n, steps);
                double sec = st.wallSeconds();
                double tps = n / sec;
                if (n == 1) single = tps;
                // cpu_share: how much of the threads' wall time this process got (others share the machine);
                // weight_gb_per_cpu_s: kernel throughput per core-second, what the threads would do unshared
                json.append(String.format(Locale.ROOT, ",\"batch_%d\":{\"step_ms\":%.2f,\"tokens_per_s\":%.3f,"
                                + "\"weight_gb_s\":%.2f,\"fraction_of_copy_bound\":%.3f,\"fraction_of_read_bound\":%.3f,"
                                + "\"cpu_share\":%.2f,\"weight_gb_per_cpu_s\":%.2f%s}",
                        n, sec * 1e3, tps, bytes / sec / 1e9, bytes / sec / bw.copyBytesPerSecond(),
                        bytes / sec / bw.readBytesPerSecond(), st.cpuSeconds() / (sec * MatOps.threads()),
                        bytes / st.cpuSeconds() / 1e9,
                        n > 1 && single > 0 ? String.format(Locale.ROOT, ",\"speedup_vs_batch_1\":%.2f", tps / single) : ""));
            }
            return json.append('}').toString();
        }
    }

    /** {@code MatvecBench [shape] [type,type,...] [batches e.g. 1,8] [steps] [threads]}. */
    public static void main(String[] args) {
        Shapes shape = Shapes.named(args.length > 0 ? args[0] : "llama-3.2-1b");
        String[] types = (args.length > 1 ? args[1] : "Q8_0,Q4_0,F16").split(",");
        String[] b = (args.length > 2 ? args[2] : "1,8").split(",");
        int[] batches = new int[b.length];
        for (int i = 0; i < b.length; i++) batches[i] = Integer.parseInt(b[i]);
        int steps = args.length > 3 ? Integer.parseInt(args[3]) : 7;
        if (args.length > 4) MatOps.setThreads(Integer.parseInt(args[4]));
        Bandwidth.Result bw = Bandwidth.measure(1L << 30, 5);
        for (String t : types) System.out.println(run(shape, GgmlType.valueOf(t), batches, steps, bw));
    }
}
