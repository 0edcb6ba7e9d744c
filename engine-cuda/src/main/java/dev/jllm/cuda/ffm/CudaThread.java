package dev.jllm.cuda.ffm;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The one thread that makes every CUDA driver call of a {@link CudaDevice}. The CUDA context is current
 * on this thread only, and the driver API is called from nowhere else: work from other threads goes
 * through {@link #call}, which runs it here and waits (inline when already here).
 */
public final class CudaThread implements AutoCloseable {
    private final ExecutorService executor;
    private volatile Thread thread;

    public CudaThread(String name) {
        this.executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            thread = t;
            return t;
        });
    }

    /** Whether the caller is the CUDA thread. */
    public boolean isCurrent() {
        return Thread.currentThread() == thread;
    }

    /** Throws unless on the CUDA thread (a guard in front of every driver call). */
    public void checkCurrent(String what) {
        if (!isCurrent()) {
            throw new IllegalStateException(what + " called on thread '" + Thread.currentThread().getName()
                    + "', not on the CUDA thread");
        }
    }

    /** Runs {@code work} on the CUDA thread and returns its result, rethrowing its exception unchanged. */
    public <T> T call(Callable<T> work) {
        if (isCurrent()) {
            try {
                return work.call();
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        Future<T> f = executor.submit(work);
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the CUDA thread", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) throw re;
            if (c instanceof Error er) throw er;
            throw new IllegalStateException(c);
        }
    }

    /** {@link #call} for work without a result. */
    public void run(Runnable work) {
        call(() -> {
            work.run();
            return null;
        });
    }

    @Override
    public void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(30, TimeUnit.SECONDS)) executor.shutdownNow();
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
