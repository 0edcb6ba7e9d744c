package dev.jllm.cuda.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.SequencedSet;

/**
 * Owns every native lifetime of one {@link CudaDevice}: device allocations ({@link DeviceBuffer}), pinned
 * host buffers ({@link PinnedBuffer}) and the arena for small driver out-parameters. Each allocation is
 * freed exactly once, by {@link #free} or else by {@link #close} (in reverse order of allocation); a
 * second free throws, as does any use of a freed buffer and any allocation after close.
 *
 * <p>All driver calls happen on the CUDA thread: the public methods hop there themselves.
 */
public final class NativeMemory implements AutoCloseable {
    private final CudaDevice device;
    private final CudaDriver driver;
    private final SequencedSet<DeviceBuffer> deviceBuffers = new LinkedHashSet<>();
    private final SequencedSet<PinnedBuffer> pinnedBuffers = new LinkedHashSet<>();
    private long liveDeviceBytes;
    private boolean closed;

    NativeMemory(CudaDevice device, CudaDriver driver) {
        this.device = device;
        this.driver = driver;
    }

    /** {@code cuMemAlloc_v2} of {@code bytes} (> 0); {@code label} names it in errors. */
    public DeviceBuffer allocate(String label, long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("device buffer '" + label + "': size " + bytes + " must be positive");
        return device.thread().call(() -> {
            checkOpen();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ValueLayout.JAVA_LONG);
                device.check("cuMemAlloc_v2", driver.cuMemAlloc(out, bytes), "'" + label + "', " + bytes + " bytes");
                DeviceBuffer b = new DeviceBuffer(label, out.get(ValueLayout.JAVA_LONG, 0), bytes);
                deviceBuffers.add(b);
                liveDeviceBytes += bytes;
                return b;
            }
        });
    }

    /** {@code cuMemHostAlloc} of {@code bytes} (> 0) page-locked host bytes. */
    public PinnedBuffer allocatePinned(String label, long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("pinned buffer '" + label + "': size " + bytes + " must be positive");
        return device.thread().call(() -> {
            checkOpen();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                device.check("cuMemHostAlloc", driver.cuMemHostAlloc(out, bytes, 0), "'" + label + "', " + bytes + " bytes");
                PinnedBuffer b = new PinnedBuffer(label, out.get(ValueLayout.ADDRESS, 0), bytes);
                pinnedBuffers.add(b);
                return b;
            }
        });
    }

    /** Frees {@code b} now ({@code cuMemFree_v2}); throws if it was already freed or is not ours. */
    public void free(DeviceBuffer b) {
        device.thread().run(() -> {
            if (b.isFreed() && !deviceBuffers.contains(b)) throw new IllegalStateException("device buffer '" + b.label() + "' freed twice");
            if (!deviceBuffers.remove(b)) throw new IllegalArgumentException(b + " is not owned by this device");
            b.markFreed();
            liveDeviceBytes -= b.bytes();
            device.check("cuMemFree_v2", driver.cuMemFree(b.rawAddress()), "'" + b.label() + "'");
        });
    }

    /** Frees {@code b} now ({@code cuMemFreeHost}); its segment becomes inaccessible. */
    public void free(PinnedBuffer b) {
        device.thread().run(() -> {
            if (b.isFreed()) throw new IllegalStateException("pinned buffer '" + b.label() + "' freed twice");
            if (!pinnedBuffers.remove(b)) throw new IllegalArgumentException(b + " is not owned by this device");
            MemorySegment raw = b.raw();
            b.markFreedAndClose();
            device.check("cuMemFreeHost", driver.cuMemFreeHost(raw), "'" + b.label() + "'");
        });
    }

    /** Live device allocations, oldest first. */
    public List<DeviceBuffer> liveDeviceBuffers() {
        return device.thread().call(() -> new ArrayList<>(deviceBuffers));
    }

    /** Live pinned buffers, oldest first. */
    public List<PinnedBuffer> livePinnedBuffers() {
        return device.thread().call(() -> new ArrayList<>(pinnedBuffers));
    }

    /** Bytes of device memory currently allocated through this object. */
    public long liveDeviceBytes() {
        return device.thread().call(() -> liveDeviceBytes);
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("native memory of " + device + " is closed");
    }

    /**
     * Frees everything still live, newest first. Every free is attempted even if one fails; the first
     * failure is thrown at the end. Idempotent.
     */
    @Override
    public void close() {
        device.thread().run(() -> {
            if (closed) return;
            closed = true;
            RuntimeException first = null;
            for (DeviceBuffer b : deviceBuffers.reversed()) {
                b.markFreed();
                try {
                    device.check("cuMemFree_v2", driver.cuMemFree(b.rawAddress()), "'" + b.label() + "' at close");
                } catch (RuntimeException e) {
                    if (first == null) first = e;
                }
            }
            deviceBuffers.clear();
            liveDeviceBytes = 0;
            for (PinnedBuffer b : pinnedBuffers.reversed()) {
                MemorySegment raw = b.raw();
                b.markFreedAndClose();
                try {
                    device.check("cuMemFreeHost", driver.cuMemFreeHost(raw), "'" + b.label() + "' at close");
                } catch (RuntimeException e) {
                    if (first == null) first = e;
                }
            }
            pinnedBuffers.clear();
            if (first != null) throw first;
        });
    }
}
