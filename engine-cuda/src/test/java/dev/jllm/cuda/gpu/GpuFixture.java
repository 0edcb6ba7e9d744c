package dev.jllm.cuda.gpu;

import dev.jllm.cuda.CudaAvailability;
import dev.jllm.cuda.ffm.CudaDevice;
import dev.jllm.cuda.ffm.DeviceBuffer;
import dev.jllm.cuda.ffm.PinnedBuffer;
import dev.jllm.cuda.kernels.CudaKernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** One real CUDA device for the GPU tests; {@link #open()} skips the test with the reason when there is none. */
final class GpuFixture implements AutoCloseable {
    /** NaN bits used to poison outputs, so elements a kernel forgot to write fail the comparison. */
    static final int POISON = 0x7fc00000;

    final CudaDevice device;
    final CudaKernels kernels;
    final long stream;
    private final PinnedBuffer staging;

    private GpuFixture(CudaDevice device) {
        this.device = device;
        this.kernels = new CudaKernels(device);
        this.stream = device.createStream();
        this.staging = device.memory().allocatePinned("test staging", 64L << 20);
    }

    /** The device, or null when there is none (then {@link #skipReason()} says why). */
    static GpuFixture openOrNull() {
        CudaAvailability.Probe p = CudaAvailability.probe();
        return p.available() ? new GpuFixture(CudaDevice.open(p.driver().orElseThrow(), 0, true)) : null;
    }

    static String skipReason() {
        return "no CUDA device: " + CudaAvailability.probe().reason();
    }

    /** Skips the calling test, visibly and with the reason, when {@code gpu} is null. */
    static void assumeGpu(GpuFixture gpu) {
        assumeTrue(gpu != null, GpuFixture::skipReason);
    }

    DeviceBuffer upload(String label, float[] v) {
        return upload(label, MemorySegment.ofArray(v));
    }

    DeviceBuffer upload(String label, int[] v) {
        return upload(label, MemorySegment.ofArray(v));
    }

    DeviceBuffer upload(String label, long[] v) {
        return upload(label, MemorySegment.ofArray(v));
    }

    DeviceBuffer upload(String label, MemorySegment src) {
        DeviceBuffer b = device.memory().allocate(label, Math.max(16, src.byteSize()));
        device.upload(b, 0, src, staging, stream);
        return b;
    }

    /** A buffer of {@code floats} floats filled with NaN. */
    DeviceBuffer poisoned(String label, long floats) {
        DeviceBuffer b = device.memory().allocate(label, 4 * floats);
        device.fill32(b, 0, POISON, floats, stream);
        return b;
    }

    float[] floats(DeviceBuffer b, int n) {
        float[] out = new float[n];
        device.synchronize(stream);
        device.download(MemorySegment.ofArray(out), b, 0, staging, stream);
        return out;
    }

    int[] ints(DeviceBuffer b, int n) {
        int[] out = new int[n];
        device.synchronize(stream);
        device.download(MemorySegment.ofArray(out), b, 0, staging, stream);
        return out;
    }

    long[] longs(DeviceBuffer b, int n) {
        long[] out = new long[n];
        device.synchronize(stream);
        device.download(MemorySegment.ofArray(out), b, 0, staging, stream);
        return out;
    }

    static float[] nanFilled(int n) {
        float[] f = new float[n];
        java.util.Arrays.fill(f, Float.intBitsToFloat(POISON));
        return f;
    }

    static MemorySegment copyOf(MemorySegment s) {
        byte[] b = s.toArray(ValueLayout.JAVA_BYTE);
        return MemorySegment.ofArray(b);
    }

    @Override
    public void close() {
        device.close();
    }
}
