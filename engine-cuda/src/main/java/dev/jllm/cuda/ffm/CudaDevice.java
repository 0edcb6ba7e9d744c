package dev.jllm.cuda.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * One CUDA device, driven through a {@link CudaDriver}: its primary context, made current on the one
 * {@link CudaThread} that makes every driver call; the {@link NativeMemory} that owns its allocations;
 * modules, streams, events, kernel launches and CUDA graphs.
 *
 * <p>Every driver result is checked: a failure becomes a {@link CudaException} naming the call (as
 * exported, e.g. {@code cuMemAlloc_v2}), the error name from {@code cuGetErrorName} and what was being
 * done. In debug mode ({@code -Djllm.cuda.debug=true} or {@code JLLM_CUDA_DEBUG=1}) each launch is followed
 * by a stream synchronization, so an asynchronous fault is reported against the kernel that caused it.
 *
 * <p>Public methods may be called from any thread; they run on the CUDA thread and wait.
 */
public final class CudaDevice implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(CudaDevice.class.getName());

    /** {@code CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR}. */
    static final int ATTR_CC_MAJOR = 75;
    /** {@code CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR}. */
    static final int ATTR_CC_MINOR = 76;
    /** {@code CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT}. */
    static final int ATTR_SM_COUNT = 16;
    /** {@code CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES}. */
    static final int FUNC_ATTR_MAX_DYNAMIC_SHARED = 8;
    /** {@code CU_STREAM_NON_BLOCKING}. */
    static final int STREAM_NON_BLOCKING = 1;
    /** {@code CU_STREAM_CAPTURE_MODE_THREAD_LOCAL}. */
    static final int CAPTURE_MODE_THREAD_LOCAL = 1;

    private final CudaDriver driver;
    private final CudaThread thread;
    private final int ordinal;
    private final boolean debugSync;
    private final NativeMemory memory;
    private final List<Long> modules = new ArrayList<>();
    private final List<Long> streams = new ArrayList<>();
    private final List<Long> events = new ArrayList<>();
    private final List<CudaGraph> graphs = new ArrayList<>();
    private int device;
    private long context;
    private String name = "?";
    private int ccMajor, ccMinor, smCount;
    private long totalMemory;
    private long capturing;  // stream under capture, 0 when none
    private boolean closed;
    private volatile boolean shutDown;

    private CudaDevice(CudaDriver driver, int ordinal, boolean debugSync) {
        this.driver = driver;
        this.ordinal = ordinal;
        this.debugSync = debugSync;
        this.thread = new CudaThread("cuda-" + ordinal);
        this.memory = new NativeMemory(this, driver);
    }

    /** Whether debug mode was asked for by {@code -Djllm.cuda.debug=true} or {@code JLLM_CUDA_DEBUG=1}. */
    public static boolean debugRequested() {
        return Boolean.getBoolean("jllm.cuda.debug") || "1".equals(System.getenv("JLLM_CUDA_DEBUG"));
    }

    /** Initializes the driver, retains device {@code ordinal}'s primary context and makes it current. */
    public static CudaDevice open(CudaDriver driver, int ordinal, boolean debugSync) {
        CudaDevice d = new CudaDevice(driver, ordinal, debugSync);
        try {
            d.thread.run(d::init);
        } catch (RuntimeException e) {
            d.thread.close();
            throw e;
        }
        return d;
    }

    private void init() {
        try (Arena a = Arena.ofConfined()) {
            check("cuInit", driver.cuInit(0), null);
            MemorySegment i = a.allocate(ValueLayout.JAVA_INT);
            check("cuDeviceGetCount", driver.cuDeviceGetCount(i), null);
            int count = i.get(ValueLayout.JAVA_INT, 0);
            if (ordinal < 0 || ordinal >= count) {
                throw new IllegalArgumentException("CUDA device " + ordinal + " asked for, " + count + " present");
            }
            check("cuDeviceGet", driver.cuDeviceGet(i, ordinal), "ordinal " + ordinal);
            device = i.get(ValueLayout.JAVA_INT, 0);
            MemorySegment nameBuf = a.allocate(256);
            check("cuDeviceGetName", driver.cuDeviceGetName(nameBuf, 256, device), null);
            name = nameBuf.getString(0);
            ccMajor = attribute(a, ATTR_CC_MAJOR);
            ccMinor = attribute(a, ATTR_CC_MINOR);
            smCount = attribute(a, ATTR_SM_COUNT);
            MemorySegment sz = a.allocate(ValueLayout.JAVA_LONG);
            check("cuDeviceTotalMem_v2", driver.cuDeviceTotalMem(sz, device), null);
            totalMemory = sz.get(ValueLayout.JAVA_LONG, 0);
            MemorySegment ctx = a.allocate(ValueLayout.ADDRESS);
            check("cuDevicePrimaryCtxRetain", driver.cuDevicePrimaryCtxRetain(ctx, device), null);
            context = ctx.get(ValueLayout.ADDRESS, 0).address();
            check("cuCtxSetCurrent", driver.cuCtxSetCurrent(context), null);
        }
        LOG.info(() -> "CUDA device " + ordinal + ": " + name + ", sm_" + ccMajor + ccMinor + ", " + smCount
                + " SMs, " + (totalMemory >> 20) + " MiB" + (debugSync ? ", debug sync after every launch" : ""));
    }

    private int attribute(Arena a, int attr) {
        MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
        check("cuDeviceGetAttribute", driver.cuDeviceGetAttribute(v, attr, device), "attribute " + attr);
        return v.get(ValueLayout.JAVA_INT, 0);
    }

    /** Throws a {@link CudaException} unless {@code result} is {@code CUDA_SUCCESS}. CUDA thread only. */
    void check(String call, int result, String context) {
        thread.checkCurrent(call);
        if (result == CudaErrors.CUDA_SUCCESS) return;
        throw new CudaException(call, result, errorName(result), context);
    }

    private String errorName(int code) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            if (driver.cuGetErrorName(code, out) == CudaErrors.CUDA_SUCCESS) {
                MemorySegment p = out.get(ValueLayout.ADDRESS, 0);
                if (p.address() != 0) return p.reinterpret(128).getString(0);
            }
        } catch (RuntimeException ignored) {
            // fall back to the table
        }
        return CudaErrors.name(code);
    }

    public CudaThread thread() {
        return thread;
    }

    public NativeMemory memory() {
        return memory;
    }

    public boolean debugSync() {
        return debugSync;
    }

    public String name() {
        return name;
    }

    /** Compute capability as major * 10 + minor (e.g. 90 for an H100). */
    public int computeCapability() {
        return ccMajor * 10 + ccMinor;
    }

    public int multiprocessors() {
        return smCount;
    }

    public long totalMemory() {
        return totalMemory;
    }

    // ---- modules and functions

    /** {@code cuModuleLoadData} of a fatbin / cubin / PTX image; returns the module handle. */
    public long loadModule(byte[] image, String what) {
        return thread.call(() -> {
            checkOpen();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment img = a.allocate(image.length + 1L, 16);
                MemorySegment.copy(image, 0, img, ValueLayout.JAVA_BYTE, 0, image.length);
                MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                check("cuModuleLoadData", driver.cuModuleLoadData(out, img), what + ", " + image.length + " bytes");
                long m = out.get(ValueLayout.ADDRESS, 0).address();
                modules.add(m);
                return m;
            }
        });
    }

    /** {@code cuModuleGetFunction}: the kernel {@code name} with its parameter kinds. */
    public CudaFunction function(long module, String name, List<ParamKind> signature) {
        return thread.call(() -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                check("cuModuleGetFunction", driver.cuModuleGetFunction(out, module, a.allocateFrom(name)), name);
                return new CudaFunction(name, out.get(ValueLayout.ADDRESS, 0).address(), signature);
            }
        });
    }

    /** Lets {@code fn} use up to {@code bytes} of dynamic shared memory (needed above 48 KiB). */
    public void setMaxDynamicSharedMemory(CudaFunction fn, int bytes) {
        thread.run(() -> check("cuFuncSetAttribute", driver.cuFuncSetAttribute(fn.handle(), FUNC_ATTR_MAX_DYNAMIC_SHARED, bytes), fn.name()));
    }

    // ---- streams and events

    /** A new non-blocking stream. */
    public long createStream() {
        return thread.call(() -> {
            checkOpen();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                check("cuStreamCreate", driver.cuStreamCreate(out, STREAM_NON_BLOCKING), null);
                long s = out.get(ValueLayout.ADDRESS, 0).address();
                streams.add(s);
                return s;
            }
        });
    }

    public void synchronize(long stream) {
        thread.run(() -> check("cuStreamSynchronize", driver.cuStreamSynchronize(stream), null));
    }

    /** A new event (for timing and for ordering one stream after another). */
    public long createEvent() {
        return thread.call(() -> {
            checkOpen();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                check("cuEventCreate", driver.cuEventCreate(out, 0), null);
                long e = out.get(ValueLayout.ADDRESS, 0).address();
                events.add(e);
                return e;
            }
        });
    }

    public void record(long event, long stream) {
        thread.run(() -> check("cuEventRecord", driver.cuEventRecord(event, stream), null));
    }

    /** Makes {@code stream} wait for {@code event} (pipeline hand-over between streams or devices). */
    public void waitEvent(long stream, long event) {
        thread.run(() -> check("cuStreamWaitEvent", driver.cuStreamWaitEvent(stream, event, 0), null));
    }

    /** Milliseconds between two recorded events (waits for {@code end}). */
    public float elapsedMillis(long start, long end) {
        return thread.call(() -> {
            check("cuEventSynchronize", driver.cuEventSynchronize(end), null);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment ms = a.allocate(ValueLayout.JAVA_FLOAT);
                check("cuEventElapsedTime_v2", driver.cuEventElapsedTime(ms, start, end), null);
                return ms.get(ValueLayout.JAVA_FLOAT, 0);
            }
        });
    }

    // ---- launches

    /** Launches {@code fn}; the arguments are checked against its signature first. */
    public void launch(CudaFunction fn, LaunchConfig cfg, long stream, KernelArgs args) {
        fn.checkArgs(args);
        thread.run(() -> {
            checkOpen();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment params = args.marshal(a);
                check("cuLaunchKernel", driver.cuLaunchKernel(fn.handle(), cfg.gridX(), cfg.gridY(), cfg.gridZ(),
                        cfg.blockX(), cfg.blockY(), cfg.blockZ(), cfg.sharedMemBytes(), stream, params, MemorySegment.NULL),
                        fn.name() + " grid " + cfg.gridX() + "x" + cfg.gridY() + "x" + cfg.gridZ() + " block " + cfg.blockX());
            }
            if (debugSync && capturing == 0) {
                check("cuStreamSynchronize", driver.cuStreamSynchronize(stream), "debug sync after " + fn.name());
            }
        });
    }

    // ---- copies

    /** Asynchronous upload from pinned memory. */
    public void copyToDevice(DeviceBuffer dst, long dstOffset, PinnedBuffer src, long srcOffset, long bytes, long stream) {
        thread.run(() -> check("cuMemcpyHtoDAsync_v2", driver.cuMemcpyHtoDAsync(dst.address(dstOffset, bytes),
                src.segment().asSlice(srcOffset, bytes), bytes, stream), dst.label()));
    }

    /** Asynchronous download into pinned memory. */
    public void copyToHost(PinnedBuffer dst, long dstOffset, DeviceBuffer src, long srcOffset, long bytes, long stream) {
        thread.run(() -> check("cuMemcpyDtoHAsync_v2", driver.cuMemcpyDtoHAsync(dst.segment().asSlice(dstOffset, bytes),
                src.address(srcOffset, bytes), bytes, stream), src.label()));
    }

    public void copyDeviceToDevice(DeviceBuffer dst, long dstOffset, DeviceBuffer src, long srcOffset, long bytes, long stream) {
        thread.run(() -> check("cuMemcpyDtoDAsync_v2", driver.cuMemcpyDtoDAsync(dst.address(dstOffset, bytes),
                src.address(srcOffset, bytes), bytes, stream), src.label() + " -> " + dst.label()));
    }

    /** Fills {@code words} 32-bit words with {@code value} (e.g. NaN poison before a kernel test). */
    public void fill32(DeviceBuffer dst, long dstOffset, int value, long words, long stream) {
        thread.run(() -> check("cuMemsetD32Async", driver.cuMemsetD32Async(dst.address(dstOffset, words * 4), value, words, stream), dst.label()));
    }

    /**
     * Synchronous upload of any host memory (heap, mapped file) through a pinned staging buffer of
     * {@code staging.bytes()} per step.
     */
    public void upload(DeviceBuffer dst, long dstOffset, MemorySegment src, PinnedBuffer staging, long stream) {
        thread.run(() -> {
            long n = src.byteSize(), chunk = staging.bytes();
            for (long off = 0; off < n; off += chunk) {
                long len = Math.min(chunk, n - off);
                MemorySegment.copy(src, off, staging.segment(), 0, len);
                copyToDevice(dst, dstOffset + off, staging, 0, len, stream);
                check("cuStreamSynchronize", driver.cuStreamSynchronize(stream), "upload " + dst.label());
            }
        });
    }

    /** Synchronous download into any host memory through a pinned staging buffer. */
    public void download(MemorySegment dst, DeviceBuffer src, long srcOffset, PinnedBuffer staging, long stream) {
        thread.run(() -> {
            long n = dst.byteSize(), chunk = staging.bytes();
            for (long off = 0; off < n; off += chunk) {
                long len = Math.min(chunk, n - off);
                copyToHost(staging, 0, src, srcOffset + off, len, stream);
                check("cuStreamSynchronize", driver.cuStreamSynchronize(stream), "download " + src.label());
                MemorySegment.copy(staging.segment(), 0, dst, off, len);
            }
        });
    }

    // ---- graphs

    /**
     * Captures what {@code body} enqueues on {@code stream} into a CUDA graph and instantiates it
     * ({@code cuStreamBeginCapture_v2}, {@code cuStreamEndCapture}, {@code cuGraphInstantiateWithFlags}).
     * Kernels that must see per-step values (position, token) read them from device memory.
     */
    public CudaGraph capture(long stream, Runnable body) {
        return thread.call(() -> {
            checkOpen();
            check("cuStreamBeginCapture_v2", driver.cuStreamBeginCapture(stream, CAPTURE_MODE_THREAD_LOCAL), null);
            capturing = stream;
            RuntimeException failure = null;
            try {
                body.run();
            } catch (RuntimeException e) {
                failure = e;
            }
            capturing = 0;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment g = a.allocate(ValueLayout.ADDRESS);
                int end = driver.cuStreamEndCapture(stream, g);
                long graph = g.get(ValueLayout.ADDRESS, 0).address();
                if (failure != null) {
                    if (end == CudaErrors.CUDA_SUCCESS && graph != 0) driver.cuGraphDestroy(graph);
                    throw failure;
                }
                check("cuStreamEndCapture", end, null);
                MemorySegment e = a.allocate(ValueLayout.ADDRESS);
                int inst = driver.cuGraphInstantiateWithFlags(e, graph, 0);
                if (inst != CudaErrors.CUDA_SUCCESS) driver.cuGraphDestroy(graph);
                check("cuGraphInstantiateWithFlags", inst, null);
                CudaGraph cg = new CudaGraph(graph, e.get(ValueLayout.ADDRESS, 0).address());
                graphs.add(cg);
                return cg;
            }
        });
    }

    public void launchGraph(CudaGraph graph, long stream) {
        thread.run(() -> {
            checkOpen();
            if (!graphs.contains(graph)) throw new IllegalStateException("graph " + graph + " destroyed or not ours");
            check("cuGraphLaunch", driver.cuGraphLaunch(graph.exec(), stream), null);
            if (debugSync) check("cuStreamSynchronize", driver.cuStreamSynchronize(stream), "debug sync after graph");
        });
    }

    public void destroyGraph(CudaGraph graph) {
        thread.run(() -> {
            if (!graphs.remove(graph)) throw new IllegalStateException("graph " + graph + " destroyed twice");
            check("cuGraphExecDestroy", driver.cuGraphExecDestroy(graph.exec()), null);
            check("cuGraphDestroy", driver.cuGraphDestroy(graph.graph()), null);
        });
    }

    /** A captured, instantiated graph. */
    public record CudaGraph(long graph, long exec) {
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException(this + " is closed");
    }

    /**
     * Waits for all work, then releases everything in reverse dependency order: graphs, memory, events,
     * streams, modules, the primary context; finally stops the CUDA thread. The first failure is thrown
     * after all steps were attempted.
     */
    @Override
    public void close() {
        if (shutDown) return;
        shutDown = true;
        try {
            thread.run(() -> {
                if (closed) return;
                List<RuntimeException> failures = new ArrayList<>();
                attempt(failures, () -> check("cuCtxSynchronize", driver.cuCtxSynchronize(), "close"));
                for (CudaGraph g : List.copyOf(graphs)) attempt(failures, () -> destroyGraph(g));
                attempt(failures, memory::close);
                for (long e : events.reversed()) attempt(failures, () -> check("cuEventDestroy_v2", driver.cuEventDestroy(e), null));
                for (long s : streams.reversed()) attempt(failures, () -> check("cuStreamDestroy_v2", driver.cuStreamDestroy(s), null));
                for (long m : modules.reversed()) attempt(failures, () -> check("cuModuleUnload", driver.cuModuleUnload(m), null));
                attempt(failures, () -> check("cuDevicePrimaryCtxRelease_v2", driver.cuDevicePrimaryCtxRelease(device), null));
                closed = true;
                events.clear();
                streams.clear();
                modules.clear();
                if (!failures.isEmpty()) throw failures.getFirst();
            });
        } finally {
            thread.close();
        }
    }

    private static void attempt(List<RuntimeException> failures, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            failures.add(e);
        }
    }

    @Override
    public String toString() {
        return "CudaDevice[" + ordinal + ", " + name + "]";
    }
}
