package dev.jllm.cuda.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Page-locked host memory ({@code cuMemHostAlloc}) for fast, asynchronous uploads and downloads, owned by
 * a {@link NativeMemory}. {@link #segment()} is bound to its own arena, closed when the buffer is freed:
 * any access after free fails in the JVM instead of touching released memory.
 */
public final class PinnedBuffer {
    private final String label;
    private final MemorySegment raw;
    private final Arena arena;
    private final MemorySegment segment;
    private volatile boolean freed;

    PinnedBuffer(String label, MemorySegment raw, long bytes) {
        this.label = label;
        this.raw = raw;
        this.arena = Arena.ofShared();
        this.segment = MemorySegment.ofAddress(raw.address()).reinterpret(bytes, arena, null);
    }

    public String label() {
        return label;
    }

    public long bytes() {
        return segment.byteSize();
    }

    public boolean isFreed() {
        return freed;
    }

    /** The host memory; throws if freed. */
    public MemorySegment segment() {
        if (freed) throw new IllegalStateException("pinned buffer '" + label + "' used after free");
        return segment;
    }

    /** The pointer as the driver returned it: for the owner's {@code cuMemFreeHost} only. */
    MemorySegment raw() {
        return raw;
    }

    void markFreedAndClose() {
        freed = true;
        arena.close();
    }

    @Override
    public String toString() {
        return "PinnedBuffer[" + label + ", " + raw.address() + (freed ? ", freed" : "") + "]";
    }
}
