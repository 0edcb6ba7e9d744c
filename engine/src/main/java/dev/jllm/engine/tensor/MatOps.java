package dev.jllm.engine.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Matrix products over {@link WeightMatrix}, rows split across a fixed pool of platform threads.
 *
 * <p>{@code matvec}: {@code out[r] = W[r] . x}. {@code matmul}: {@code out[i][r] = W[r] . x[i]} for {@code n} inputs,
 * each weight row read once for all of them (prefill, batched decode). Inputs are prepared once per call
 * ({@link WeightMatrix#prepare}, e.g. quantized to 8 bits) and shared by the threads.
 *
 * <p>The thread count is global ({@link #setThreads}); the default is the number of available processors.
 */
public final class MatOps {
    /** Rows below which a product runs on the calling thread only. */
    private static final int MIN_PARALLEL_ROWS = 64;
    /** Chunks per thread, for balance on a machine shared with other work. */
    private static final int CHUNKS_PER_THREAD = 4;

    private static volatile Pool pool = new Pool(Runtime.getRuntime().availableProcessors());

    private MatOps() {
    }

    /** Sets the number of threads (caller included) that split the rows; replaces the pool. */
    public static synchronized void setThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (threads == pool.threads) return;
        Pool old = pool;
        pool = new Pool(threads);
        old.shutdown();
    }

    public static int threads() {
        return pool.threads;
    }

    /** {@code out[outOff + r] = sum_c W[r][c] * x[xOff + c]} for all rows of {@code w}. */
    public static void matvec(WeightMatrix w, float[] x, int xOff, float[] out, int outOff) {
        Activations a = w.prepare(x, xOff, 1);
        forRows(w.rows(), (start, end) -> w.matmul(a, out, outOff, start, end));
    }

    /**
     * {@code out[i * rows + r] = sum_c W[r][c] * x[i * cols + c]} for {@code i < n}: {@code x} is [n][cols],
     * {@code out} is [n][rows].
     */
    public static void matmul(WeightMatrix w, float[] x, int n, float[] out) {
        matmul(w, x, 0, n, out, 0);
    }

    /** {@link #matmul(WeightMatrix, float[], int, float[])} with offsets into {@code x} and {@code out}. */
    public static void matmul(WeightMatrix w, float[] x, int xOff, int n, float[] out, int outOff) {
        if ((long) outOff + (long) n * w.rows() > out.length) {
            throw new IllegalArgumentException("output [" + n + " x " + w.rows() + "] at " + outOff
                    + " does not fit in an array of " + out.length);
        }
        Activations a = w.prepare(x, xOff, n);
        forRows(w.rows(), (start, end) -> w.matmul(a, out, outOff, start, end));
    }

    /**
     * Several products over the same inputs in one pass of the pool: {@code outs[j]} is [n][ws[j].rows()], as
     * {@link #matmul(WeightMatrix, float[], int, float[])} would write it for {@code ws[j]}. The inputs are prepared
     * once per weight type (e.g. quantized once for wq, wk and wv) and the threads take chunks of the matrices' rows
     * laid end to end, so a decode step waits for the threads once instead of once per matrix.
     */
    public static void matmul(WeightMatrix[] ws, float[] x, int n, float[][] outs) {
        if (ws.length != outs.length) throw new IllegalArgumentException(ws.length + " matrices for " + outs.length + " outputs");
        Activations[] as = new Activations[ws.length];
        int[] first = new int[ws.length + 1]; // first[j]: the first row of ws[j] in the concatenation
        for (int j = 0; j < ws.length; j++) {
            WeightMatrix w = ws[j];
            if (w.cols() != ws[0].cols()) {
                throw new IllegalArgumentException("matrix " + j + " has " + w.cols() + " columns, matrix 0 has " + ws[0].cols());
            }
            if ((long) n * w.rows() > outs[j].length) {
                throw new IllegalArgumentException("output " + j + " [" + n + " x " + w.rows() + "] does not fit in an array of " + outs[j].length);
            }
            int same = j - 1;
            while (same >= 0 && ws[same].type() != w.type()) same--;
            as[j] = same >= 0 ? as[same] : w.prepare(x, 0, n);
            first[j + 1] = first[j] + w.rows();
        }
        forRows(first[ws.length], (start, end) -> {
            for (int j = 0; j < ws.length; j++) {
                int lo = Math.max(start, first[j]), hi = Math.min(end, first[j + 1]);
                if (lo < hi) ws[j].matmul(as[j], outs[j], 0, lo - first[j], hi - first[j]);
            }
        });
    }

    /** A body over a half-open range {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    /** Runs {@code body} over {@code [0, n)} split into contiguous ranges on the pool (the caller takes part). */
    public static void parallelFor(int n, int minPerChunk, RangeBody body) {
        Pool p = pool;
        int chunks = Math.min(p.threads * CHUNKS_PER_THREAD, Math.max(1, n / Math.max(1, minPerChunk)));
        if (p.threads == 1 || chunks <= 1 || Pool.isWorker()) {
            body.run(0, n);
            return;
        }
        p.run(n, chunks, body);
    }

    private static void forRows(int rows, RangeBody body) {
        if (rows < MIN_PARALLEL_ROWS) {
            body.run(0, rows);
        } else {
            parallelFor(rows, 16, body);
        }
    }

    /**
     * {@code threads - 1} daemon workers that spin briefly, then park, waiting for the next job. One job at a time;
     * chunks are taken from the job's counter so a slow thread does not hold the others back. A job is an immutable
     * object with its own counters, so a worker that wakes late can only find an exhausted job.
     */
    private static final class Pool {
        private static final ThreadLocal<Boolean> WORKER = ThreadLocal.withInitial(() -> false);
        /**
         * How long a thread spin-waits before it yields (the caller) or parks (a worker): enough for the gap between
         * two products of one step, short enough that the gaps between steps (sampling, sending the tokens) leave the
         * core to the rest of the process and the machine. A time, not a count: one spin costs a few ns on some CPUs
         * and 26 ns on a Zen 4. Spinning 100 us (the former 4,000 spins on that Zen 4) kept a core busy through every
         * gap, which the Kafka and HTTP threads of a stack on 2 shared cores then waited for (stack-bench, stories260K,
         * 3 interleaved rounds: the stack added +5.9 ms to the median time to first token at 100 us, +3.8 ms at
         * 3 us; 8 streams gave a median 4,879 against 6,130 tokens/s); a 125M model showed no difference beyond the
         * noise. Property {@code jllm.matops.spin-micros}: raise it where the engine has cores of its own.
         */
        private static final long SPIN_NANOS = 1_000L * Long.getLong("jllm.matops.spin-micros", 3);
        /** Spins between two clock reads. */
        private static final int SPINS_PER_CLOCK_READ = 16;

        final int threads;
        private final Thread[] workers;
        private volatile boolean shutdown;
        private volatile Job job;

        private static final class Job {
            final RangeBody body;
            final int n;
            final int chunks;
            final AtomicInteger nextChunk = new AtomicInteger();
            final AtomicInteger pending;
            final AtomicReference<Throwable> failure = new AtomicReference<>();

            Job(RangeBody body, int n, int chunks) {
                this.body = body;
                this.n = n;
                this.chunks = chunks;
                this.pending = new AtomicInteger(chunks);
            }

            /** Takes chunks until none is left. */
            void work() {
                int c;
                while ((c = nextChunk.getAndIncrement()) < chunks) {
                    int start = (int) ((long) n * c / chunks);
                    int end = (int) ((long) n * (c + 1) / chunks);
                    try {
                        if (failure.get() == null) body.run(start, end);
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    } finally {
                        pending.decrementAndGet();
                    }
                }
            }
        }

        Pool(int threads) {
            this.threads = threads;
            this.workers = new Thread[threads - 1];
            for (int t = 0; t < workers.length; t++) {
                Thread worker = new Thread(this::workerLoop, "jllm-matops-" + t);
                worker.setDaemon(true);
                workers[t] = worker;
                worker.start();
            }
        }

        static boolean isWorker() {
            return WORKER.get();
        }

        synchronized void run(int n, int chunks, RangeBody body) {
            Job j = new Job(body, n, chunks);
            job = j;
            for (Thread w : workers) LockSupport.unpark(w);
            j.work();
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            int spins = 0;
            while (j.pending.get() > 0) {
                if (spinning(++spins, spinUntil)) Thread.onSpinWait();
                else Thread.yield();
            }
            Throwable t = j.failure.get();
            if (t instanceof RuntimeException e) throw e;
            if (t instanceof Error e) throw e;
            if (t != null) throw new RuntimeException(t);
        }

        private void workerLoop() {
            WORKER.set(true);
            Job seen = null;
            while (!shutdown) {
                long spinUntil = System.nanoTime() + SPIN_NANOS;
                int spins = 0;
                Job j;
                while ((j = job) == seen && !shutdown) {
                    if (spinning(++spins, spinUntil)) Thread.onSpinWait();
                    else LockSupport.park(this);
                }
                if (shutdown) return;
                seen = j;
                j.work();
            }
        }

        /** Whether a waiting thread spins once more (the clock is read once every few spins). */
        private static boolean spinning(int spins, long spinUntil) {
            return spins % SPINS_PER_CLOCK_READ != 0 || System.nanoTime() < spinUntil;
        }

        void shutdown() {
            shutdown = true;
            for (Thread w : workers) LockSupport.unpark(w);
        }
    }
}
