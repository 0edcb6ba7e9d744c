package dev.jllm.cuda;

import dev.jllm.cuda.ffm.CudaDriver;
import dev.jllm.cuda.ffm.NativeCudaDriver;
import dev.jllm.cuda.kernels.Kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;

/**
 * Whether CUDA can run here, and if not, why: no driver library, no device, or a jar built without the
 * kernels. Cheap; calls only {@code cuInit} and {@code cuDeviceGetCount} (on the caller's thread, before
 * any context exists). Setting {@code -Djllm.cuda.disable=true} or {@code JLLM_CUDA=0} turns CUDA off.
 */
public final class CudaAvailability {
    private CudaAvailability() {
    }

    /** A usable driver, or the reason there is none. */
    public record Probe(Optional<CudaDriver> driver, int devices, String reason) {
        public boolean available() {
            return driver.isPresent() && devices > 0;
        }
    }

    private static volatile Probe cached;

    public static Probe probe() {
        Probe p = cached;
        if (p == null) cached = p = doProbe();
        return p;
    }

    private static Probe doProbe() {
        if (Boolean.getBoolean("jllm.cuda.disable") || "0".equals(System.getenv("JLLM_CUDA"))) {
            return new Probe(Optional.empty(), 0, "CUDA disabled (jllm.cuda.disable / JLLM_CUDA=0)");
        }
        if (CudaAvailability.class.getResource(Kernel.FATBIN_RESOURCE) == null) {
            return new Probe(Optional.empty(), 0, "CUDA kernels not built into this jar (no nvcc at build time)");
        }
        NativeCudaDriver.Result r = NativeCudaDriver.load();
        if (r.driver().isEmpty()) return new Probe(Optional.empty(), 0, r.reason());
        CudaDriver d = r.driver().get();
        int init = d.cuInit(0);
        if (init != 0) return new Probe(Optional.empty(), 0, "no CUDA device: cuInit returned " + init + " (" + r.reason() + ")");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocate(ValueLayout.JAVA_INT);
            int rc = d.cuDeviceGetCount(n);
            int count = rc == 0 ? n.get(ValueLayout.JAVA_INT, 0) : 0;
            if (count == 0) return new Probe(Optional.empty(), 0, "no CUDA device (cuDeviceGetCount: " + rc + ")");
            return new Probe(Optional.of(d), count, count + " CUDA device(s), " + r.reason());
        }
    }
}
