package dev.jllm.cuda.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The arguments of one kernel launch, in parameter order, and their marshalling into the
 * {@code void* kernelParams[]} that {@code cuLaunchKernel} takes: one pointer per parameter, pointing at a
 * copy of the parameter's value laid out as its C type ({@link ParamKind}).
 *
 * <p>Device pointers are given as {@link DeviceBuffer}s (optionally with a byte offset) and resolved at
 * marshalling time, so a freed buffer cannot be passed to a kernel.
 */
public final class KernelArgs {
    private final List<ParamKind> kinds = new ArrayList<>();
    private final List<Object> values = new ArrayList<>();

    public static KernelArgs create() {
        return new KernelArgs();
    }

    /** A pointer to the start of {@code buffer}. */
    public KernelArgs ptr(DeviceBuffer buffer) {
        return ptr(buffer, 0);
    }

    /** A pointer {@code byteOffset} bytes into {@code buffer}. */
    public KernelArgs ptr(DeviceBuffer buffer, long byteOffset) {
        if (byteOffset < 0 || byteOffset > buffer.bytes()) {
            throw new IndexOutOfBoundsException("offset " + byteOffset + " outside " + buffer);
        }
        kinds.add(ParamKind.PTR);
        values.add(new BufferRef(buffer, byteOffset));
        return this;
    }

    /** A raw device address (e.g. {@code 0} for an optional pointer parameter). */
    public KernelArgs rawPtr(long address) {
        kinds.add(ParamKind.PTR);
        values.add(address);
        return this;
    }

    public KernelArgs i32(int v) {
        kinds.add(ParamKind.I32);
        values.add(v);
        return this;
    }

    public KernelArgs i64(long v) {
        kinds.add(ParamKind.I64);
        values.add(v);
        return this;
    }

    public KernelArgs f32(float v) {
        kinds.add(ParamKind.F32);
        values.add(v);
        return this;
    }

    /** The kinds in order, to check against a kernel's signature. */
    public List<ParamKind> kinds() {
        return List.copyOf(kinds);
    }

    public int size() {
        return kinds.size();
    }

    /**
     * Lays the values out in {@code arena}: returns the {@code void*[size()]} array. Valid while the arena
     * is open; {@code cuLaunchKernel} copies the values, so the arena may close right after the launch.
     */
    public MemorySegment marshal(Arena arena) {
        MemorySegment array = arena.allocate(ValueLayout.ADDRESS, Math.max(1, kinds.size()));
        for (int i = 0; i < kinds.size(); i++) {
            MemorySegment slot = arena.allocate(8, 8);
            Object v = values.get(i);
            switch (kinds.get(i)) {
                case PTR -> slot.set(ValueLayout.JAVA_LONG, 0, v instanceof BufferRef r ? r.resolve() : (Long) v);
                case I32 -> slot.set(ValueLayout.JAVA_INT, 0, (Integer) v);
                case I64 -> slot.set(ValueLayout.JAVA_LONG, 0, (Long) v);
                case F32 -> slot.set(ValueLayout.JAVA_FLOAT, 0, (Float) v);
            }
            array.setAtIndex(ValueLayout.ADDRESS, i, slot);
        }
        return array;
    }

    private record BufferRef(DeviceBuffer buffer, long offset) {
        long resolve() {
            return buffer.address() + offset;
        }
    }
}
