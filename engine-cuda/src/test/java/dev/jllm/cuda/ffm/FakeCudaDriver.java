package dev.jllm.cuda.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A CUDA driver without a GPU: hands out fake handles and device addresses, keeps pinned host memory in
 * a real arena, records every call (with the calling thread) and every launch (with its raw parameter
 * slots read back through the {@code void**} array), and fails chosen calls with chosen codes. Freeing
 * an unknown or already-freed pointer returns {@code CUDA_ERROR_INVALID_VALUE}, as the driver does.
 */
public class FakeCudaDriver implements CudaDriver {
    /** One recorded call. */
    public record Call(String name, String thread) {
    }

    /** One recorded launch: function handle, dimensions, stream and each parameter's 8 raw bytes. */
    public record Launch(long function, int gridX, int gridY, int gridZ, int blockX, int sharedMem, long stream, List<byte[]> params) {
        public long paramLong(int i) {
            return MemorySegment.ofArray(params.get(i)).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        }

        public int paramInt(int i) {
            return MemorySegment.ofArray(params.get(i)).get(ValueLayout.JAVA_INT_UNALIGNED, 0);
        }

        public float paramFloat(int i) {
            return MemorySegment.ofArray(params.get(i)).get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0);
        }
    }

    public final List<Call> calls = new ArrayList<>();
    public final List<Launch> launches = new ArrayList<>();
    /** Live device allocations: address -> bytes. */
    public final Map<Long, Long> liveDevice = new LinkedHashMap<>();
    public final Map<Long, MemorySegment> livePinned = new LinkedHashMap<>();
    public final List<Long> freedDevice = new ArrayList<>();
    public final Map<String, Long> functionsByName = new HashMap<>();
    private final Map<String, Integer> failures = new HashMap<>();
    private final Arena hostArena = Arena.ofShared();
    private long nextHandle = 0x1000;
    private long nextDevice = 0x7f00_0000_0000L;
    /** Launches-per-function count so a test can check the kernel launched by name. */
    public final Map<Long, String> functionNames = new HashMap<>();
    public boolean errorNameWorks = true;
    public final Map<Long, Integer> paramCounts = new HashMap<>();
    /** Parameter count per kernel name, used to read back launches of functions resolved later. */
    public final Map<String, Integer> paramCountByName = new HashMap<>();

    /** Makes the next call named {@code name} (as in CudaDriver) return {@code code}. */
    public void failNext(String name, int code) {
        failures.put(name, code);
    }

    private int record(String name) {
        calls.add(new Call(name, Thread.currentThread().getName()));
        Integer f = failures.remove(name);
        return f == null ? 0 : f;
    }

    public long count(String name) {
        return calls.stream().filter(c -> c.name().equals(name)).count();
    }

    public List<String> callNames() {
        return calls.stream().map(Call::name).toList();
    }

    private long handle() {
        return nextHandle += 0x10;
    }

    private static void putLong(MemorySegment out, long v) {
        out.reinterpret(8).set(ValueLayout.JAVA_LONG_UNALIGNED, 0, v);
    }

    private static void putInt(MemorySegment out, int v) {
        out.reinterpret(4).set(ValueLayout.JAVA_INT_UNALIGNED, 0, v);
    }

    @Override public int cuInit(int flags) { return record("cuInit"); }
    @Override public int cuDriverGetVersion(MemorySegment out) { int r = record("cuDriverGetVersion"); putInt(out, 13000); return r; }
    @Override public int cuDeviceGetCount(MemorySegment out) { int r = record("cuDeviceGetCount"); putInt(out, 1); return r; }
    @Override public int cuDeviceGet(MemorySegment out, int ordinal) { int r = record("cuDeviceGet"); putInt(out, ordinal); return r; }

    @Override
    public int cuDeviceGetName(MemorySegment out, int len, int dev) {
        int r = record("cuDeviceGetName");
        out.reinterpret(len).setString(0, "Fake GPU");
        return r;
    }

    @Override
    public int cuDeviceGetAttribute(MemorySegment out, int attr, int dev) {
        int r = record("cuDeviceGetAttribute");
        putInt(out, switch (attr) {
            case CudaDevice.ATTR_CC_MAJOR -> 9;
            case CudaDevice.ATTR_CC_MINOR -> 0;
            case CudaDevice.ATTR_SM_COUNT -> 132;
            default -> 0;
        });
        return r;
    }

    @Override public int cuDeviceTotalMem(MemorySegment out, int dev) { int r = record("cuDeviceTotalMem"); putLong(out, 80L << 30); return r; }
    @Override public int cuDevicePrimaryCtxRetain(MemorySegment out, int dev) { int r = record("cuDevicePrimaryCtxRetain"); putLong(out, handle()); return r; }
    @Override public int cuDevicePrimaryCtxRelease(int dev) { return record("cuDevicePrimaryCtxRelease"); }
    @Override public int cuCtxSetCurrent(long ctx) { return record("cuCtxSetCurrent"); }
    @Override public int cuCtxSynchronize() { return record("cuCtxSynchronize"); }

    @Override
    public int cuModuleLoadData(MemorySegment out, MemorySegment image) {
        int r = record("cuModuleLoadData");
        if (r == 0) putLong(out, handle());
        return r;
    }

    @Override public int cuModuleUnload(long module) { return record("cuModuleUnload"); }

    @Override
    public int cuModuleGetFunction(MemorySegment out, long module, MemorySegment name) {
        int r = record("cuModuleGetFunction");
        String n = name.reinterpret(256).getString(0);
        long h = handle();
        functionsByName.put(n, h);
        functionNames.put(h, n);
        paramCounts.put(h, paramCountByName.getOrDefault(n, 0));
        putLong(out, h);
        return r;
    }

    /**
     * Dynamic shared memory a launch may take without an opt-in: 48 KiB less the kernel's static shared memory,
     * which the fake does not know and takes to be 128 bytes (one block reduction's scratch) for every kernel.
     */
    public static final int DEFAULT_MAX_DYNAMIC_SHARED = 48 * 1024 - 128;
    /** Opt-ins to more dynamic shared memory (cuFuncSetAttribute), by function. */
    public final Map<Long, Integer> maxDynamicShared = new HashMap<>();

    @Override
    public int cuFuncSetAttribute(long fn, int attr, int value) {
        int r = record("cuFuncSetAttribute");
        if (r == 0 && attr == CudaDevice.FUNC_ATTR_MAX_DYNAMIC_SHARED) maxDynamicShared.put(fn, value);
        return r;
    }

    @Override
    public int cuMemAlloc(MemorySegment out, long bytes) {
        int r = record("cuMemAlloc");
        if (r != 0) return r;
        long a = nextDevice;
        nextDevice += (bytes + 255) / 256 * 256;
        liveDevice.put(a, bytes);
        putLong(out, a);
        return 0;
    }

    @Override
    public int cuMemFree(long dptr) {
        int r = record("cuMemFree");
        if (r != 0) return r;
        if (liveDevice.remove(dptr) == null) return CudaErrors.CUDA_ERROR_INVALID_VALUE;
        freedDevice.add(dptr);
        return 0;
    }

    @Override
    public int cuMemGetInfo(MemorySegment free, MemorySegment total) {
        int r = record("cuMemGetInfo");
        putLong(free, 70L << 30);
        putLong(total, 80L << 30);
        return r;
    }

    @Override
    public int cuMemHostAlloc(MemorySegment out, long bytes, int flags) {
        int r = record("cuMemHostAlloc");
        if (r != 0) return r;
        MemorySegment s = hostArena.allocate(bytes, 64);
        livePinned.put(s.address(), s);
        out.reinterpret(8).set(ValueLayout.ADDRESS, 0, s);
        return 0;
    }

    @Override
    public int cuMemFreeHost(MemorySegment p) {
        int r = record("cuMemFreeHost");
        if (r != 0) return r;
        return livePinned.remove(p.address()) == null ? CudaErrors.CUDA_ERROR_INVALID_VALUE : 0;
    }

    private int checkDevice(long address, long bytes) {
        for (Map.Entry<Long, Long> e : liveDevice.entrySet()) {
            if (address >= e.getKey() && address + bytes <= e.getKey() + e.getValue()) return 0;
        }
        return CudaErrors.CUDA_ERROR_INVALID_VALUE;
    }

    @Override
    public int cuMemcpyHtoDAsync(long dst, MemorySegment src, long bytes, long stream) {
        int r = record("cuMemcpyHtoDAsync");
        return r != 0 ? r : checkDevice(dst, bytes);
    }

    @Override
    public int cuMemcpyDtoHAsync(MemorySegment dst, long src, long bytes, long stream) {
        int r = record("cuMemcpyDtoHAsync");
        return r != 0 ? r : checkDevice(src, bytes);
    }

    @Override
    public int cuMemcpyDtoDAsync(long dst, long src, long bytes, long stream) {
        int r = record("cuMemcpyDtoDAsync");
        return r != 0 ? r : checkDevice(dst, bytes) | checkDevice(src, bytes);
    }

    @Override public int cuMemsetD32Async(long dst, int value, long count, long stream) { int r = record("cuMemsetD32Async"); return r != 0 ? r : checkDevice(dst, count * 4); }
    @Override public int cuStreamCreate(MemorySegment out, int flags) { int r = record("cuStreamCreate"); putLong(out, handle()); return r; }
    @Override public int cuStreamDestroy(long stream) { return record("cuStreamDestroy"); }
    @Override public int cuStreamSynchronize(long stream) { return record("cuStreamSynchronize"); }
    @Override public int cuStreamWaitEvent(long stream, long event, int flags) { return record("cuStreamWaitEvent"); }
    @Override public int cuEventCreate(MemorySegment out, int flags) { int r = record("cuEventCreate"); putLong(out, handle()); return r; }
    @Override public int cuEventRecord(long event, long stream) { return record("cuEventRecord"); }
    @Override public int cuEventSynchronize(long event) { return record("cuEventSynchronize"); }

    @Override
    public int cuEventElapsedTime(MemorySegment ms, long start, long end) {
        int r = record("cuEventElapsedTime");
        ms.reinterpret(4).set(ValueLayout.JAVA_FLOAT_UNALIGNED, 0, 1.5f);
        return r;
    }

    @Override public int cuEventDestroy(long event) { return record("cuEventDestroy"); }

    @Override
    public int cuLaunchKernel(long fn, int gx, int gy, int gz, int bx, int by, int bz, int smem, long stream,
                              MemorySegment params, MemorySegment extra) {
        int r = record("cuLaunchKernel");
        int n = paramCounts.getOrDefault(fn, 0);
        MemorySegment array = params.reinterpret(8L * n);
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            MemorySegment slot = array.getAtIndex(ValueLayout.ADDRESS, i).reinterpret(8);
            values.add(slot.toArray(ValueLayout.JAVA_BYTE));
        }
        launches.add(new Launch(fn, gx, gy, gz, bx, smem, stream, values));
        if (r == 0 && smem > maxDynamicShared.getOrDefault(fn, DEFAULT_MAX_DYNAMIC_SHARED)) return CudaErrors.CUDA_ERROR_INVALID_VALUE;
        return r;
    }

    @Override public int cuStreamBeginCapture(long stream, int mode) { return record("cuStreamBeginCapture"); }
    @Override public int cuStreamEndCapture(long stream, MemorySegment out) { int r = record("cuStreamEndCapture"); putLong(out, handle()); return r; }
    @Override public int cuGraphInstantiateWithFlags(MemorySegment out, long graph, long flags) { int r = record("cuGraphInstantiateWithFlags"); putLong(out, handle()); return r; }
    @Override public int cuGraphLaunch(long exec, long stream) { return record("cuGraphLaunch"); }
    @Override public int cuGraphExecDestroy(long exec) { return record("cuGraphExecDestroy"); }
    @Override public int cuGraphDestroy(long graph) { return record("cuGraphDestroy"); }

    private final Map<Integer, MemorySegment> errorStrings = new HashMap<>();

    @Override
    public int cuGetErrorName(int error, MemorySegment out) {
        calls.add(new Call("cuGetErrorName", Thread.currentThread().getName()));
        if (!errorNameWorks) return CudaErrors.CUDA_ERROR_INVALID_VALUE;
        MemorySegment s = errorStrings.computeIfAbsent(error, e -> hostArena.allocateFrom(CudaErrors.name(e) + "_FROM_DRIVER"));
        out.reinterpret(8).set(ValueLayout.ADDRESS, 0, s);
        return 0;
    }
}
