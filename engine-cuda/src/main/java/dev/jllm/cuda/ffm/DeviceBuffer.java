package dev.jllm.cuda.ffm;

/**
 * One device allocation ({@code cuMemAlloc_v2}), owned by a {@link NativeMemory}. Its address can be read
 * only while it is live: after {@link NativeMemory#free} or {@link NativeMemory#close} every use throws,
 * so a freed pointer never reaches a kernel.
 */
public final class DeviceBuffer {
    private final String label;
    private final long bytes;
    private final long address;
    private final DeviceBuffer parent;  // non-null for a view
    private volatile boolean freed;

    DeviceBuffer(String label, long address, long bytes) {
        this(label, address, bytes, null);
    }

    private DeviceBuffer(String label, long address, long bytes, DeviceBuffer parent) {
        this.label = label;
        this.address = address;
        this.bytes = bytes;
        this.parent = parent;
    }

    /**
     * A view of {@code [offset, offset + length)} of this buffer (one token's row, one expert), valid while
     * this buffer is: it is never freed itself, and using it after its owner's free throws.
     */
    public DeviceBuffer view(String viewLabel, long offset, long length) {
        address(offset, length);  // bounds and liveness
        return new DeviceBuffer(viewLabel, address + offset, length, parent != null ? parent : this);
    }

    /** What the buffer holds (for errors and leak reports), e.g. {@code "blk.3.attn_q.weight"}. */
    public String label() {
        return label;
    }

    public long bytes() {
        return bytes;
    }

    public boolean isFreed() {
        return freed || (parent != null && parent.freed);
    }

    /** The device address; throws if freed. */
    public long address() {
        if (isFreed()) throw new IllegalStateException("device buffer '" + label + "' used after free");
        return address;
    }

    /** The address {@code offset} bytes in; the range {@code [offset, offset + length)} must lie inside. */
    public long address(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > bytes) {
            throw new IndexOutOfBoundsException("device buffer '" + label + "' of " + bytes + " bytes: range ["
                    + offset + ", " + (offset + length) + ") outside");
        }
        return address() + offset;
    }

    /** The raw address even if freed: for the owner's bookkeeping only. */
    long rawAddress() {
        return address;
    }

    void markFreed() {
        freed = true;
    }

    @Override
    public String toString() {
        return "DeviceBuffer[" + label + ", " + bytes + " B" + (freed ? ", freed" : "") + "]";
    }
}
