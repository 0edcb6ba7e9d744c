package dev.jllm.cuda.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * {@link CudaDriver} bound to the NVIDIA driver library {@code libcuda.so.1} with {@code java.lang.foreign}.
 * Each method is one downcall to the versioned symbol that {@code cuda.h} (CUDA 13) maps the name to,
 * e.g. {@code cuMemAlloc -> cuMemAlloc_v2}; see {@link #SYMBOLS}.
 *
 * <p>Library lookup, first hit wins: {@code -Djllm.libcuda=PATH}, {@code $JLLM_LIBCUDA}; the dynamic loader by name
 * ({@code libcuda.so.1}, honouring {@code LD_LIBRARY_PATH} and ldconfig); then the folders where drivers
 * live: {@code /usr/local/nvidia/lib64} and {@code /usr/local/nvidia/lib} (the device machines here
 * mount the driver there), {@code /usr/lib/x86_64-linux-gnu}, {@code /usr/lib64},
 * {@code /usr/local/cuda/compat}. {@link #load()} says which paths it tried when none works.
 */
public final class NativeCudaDriver implements CudaDriver {

    /** The library's file name, as the loader knows it. */
    public static final String LIBRARY = "libcuda.so.1";

    /** Folders searched after the loader's own search. */
    public static final List<String> DRIVER_FOLDERS = List.of(
            "/usr/local/nvidia/lib64", "/usr/local/nvidia/lib", "/usr/lib/x86_64-linux-gnu",
            "/usr/lib64", "/usr/local/cuda/compat");

    /** {name in CudaDriver, exported symbol} for every call whose symbol differs from its name. */
    static final String[][] SYMBOLS = {
            {"cuDeviceTotalMem", "cuDeviceTotalMem_v2"},
            {"cuDevicePrimaryCtxRelease", "cuDevicePrimaryCtxRelease_v2"},
            {"cuMemAlloc", "cuMemAlloc_v2"},
            {"cuMemFree", "cuMemFree_v2"},
            {"cuMemGetInfo", "cuMemGetInfo_v2"},
            {"cuMemcpyHtoDAsync", "cuMemcpyHtoDAsync_v2"},
            {"cuMemcpyDtoHAsync", "cuMemcpyDtoHAsync_v2"},
            {"cuMemcpyDtoDAsync", "cuMemcpyDtoDAsync_v2"},
            {"cuStreamDestroy", "cuStreamDestroy_v2"},
            {"cuEventDestroy", "cuEventDestroy_v2"},
            {"cuEventElapsedTime", "cuEventElapsedTime_v2"},
            {"cuStreamBeginCapture", "cuStreamBeginCapture_v2"},
    };

    private static final Linker LINKER = Linker.nativeLinker();

    private final String libraryPath;
    private final MethodHandle cuInit, cuDriverGetVersion, cuDeviceGetCount, cuDeviceGet, cuDeviceGetName,
            cuDeviceGetAttribute, cuDeviceTotalMem, cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRelease,
            cuCtxSetCurrent, cuCtxSynchronize, cuModuleLoadData, cuModuleUnload, cuModuleGetFunction,
            cuFuncSetAttribute, cuMemAlloc, cuMemFree, cuMemGetInfo, cuMemHostAlloc, cuMemFreeHost,
            cuMemcpyHtoDAsync, cuMemcpyDtoHAsync, cuMemcpyDtoDAsync, cuMemsetD32Async, cuStreamCreate,
            cuStreamDestroy, cuStreamSynchronize, cuStreamWaitEvent, cuEventCreate, cuEventRecord,
            cuEventSynchronize, cuEventElapsedTime, cuEventDestroy, cuLaunchKernel, cuStreamBeginCapture,
            cuStreamEndCapture, cuGraphInstantiateWithFlags, cuGraphLaunch, cuGraphExecDestroy, cuGraphDestroy,
            cuGetErrorName;

    private NativeCudaDriver(SymbolLookup lib, String libraryPath) {
        this.libraryPath = libraryPath;
        Binder b = new Binder(lib);
        cuInit = b.bind("cuInit", JAVA_INT);
        cuDriverGetVersion = b.bind("cuDriverGetVersion", ADDRESS);
        cuDeviceGetCount = b.bind("cuDeviceGetCount", ADDRESS);
        cuDeviceGet = b.bind("cuDeviceGet", ADDRESS, JAVA_INT);
        cuDeviceGetName = b.bind("cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT);
        cuDeviceGetAttribute = b.bind("cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        cuDeviceTotalMem = b.bind("cuDeviceTotalMem", ADDRESS, JAVA_INT);
        cuDevicePrimaryCtxRetain = b.bind("cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
        cuDevicePrimaryCtxRelease = b.bind("cuDevicePrimaryCtxRelease", JAVA_INT);
        cuCtxSetCurrent = b.bind("cuCtxSetCurrent", ADDRESS);
        cuCtxSynchronize = b.bind("cuCtxSynchronize");
        cuModuleLoadData = b.bind("cuModuleLoadData", ADDRESS, ADDRESS);
        cuModuleUnload = b.bind("cuModuleUnload", ADDRESS);
        cuModuleGetFunction = b.bind("cuModuleGetFunction", ADDRESS, ADDRESS, ADDRESS);
        cuFuncSetAttribute = b.bind("cuFuncSetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        cuMemAlloc = b.bind("cuMemAlloc", ADDRESS, JAVA_LONG);
        cuMemFree = b.bind("cuMemFree", JAVA_LONG);
        cuMemGetInfo = b.bind("cuMemGetInfo", ADDRESS, ADDRESS);
        cuMemHostAlloc = b.bind("cuMemHostAlloc", ADDRESS, JAVA_LONG, JAVA_INT);
        cuMemFreeHost = b.bind("cuMemFreeHost", ADDRESS);
        cuMemcpyHtoDAsync = b.bind("cuMemcpyHtoDAsync", JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS);
        cuMemcpyDtoHAsync = b.bind("cuMemcpyDtoHAsync", ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS);
        cuMemcpyDtoDAsync = b.bind("cuMemcpyDtoDAsync", JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS);
        cuMemsetD32Async = b.bind("cuMemsetD32Async", JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS);
        cuStreamCreate = b.bind("cuStreamCreate", ADDRESS, JAVA_INT);
        cuStreamDestroy = b.bind("cuStreamDestroy", ADDRESS);
        cuStreamSynchronize = b.bind("cuStreamSynchronize", ADDRESS);
        cuStreamWaitEvent = b.bind("cuStreamWaitEvent", ADDRESS, ADDRESS, JAVA_INT);
        cuEventCreate = b.bind("cuEventCreate", ADDRESS, JAVA_INT);
        cuEventRecord = b.bind("cuEventRecord", ADDRESS, ADDRESS);
        cuEventSynchronize = b.bind("cuEventSynchronize", ADDRESS);
        cuEventElapsedTime = b.bind("cuEventElapsedTime", ADDRESS, ADDRESS, ADDRESS);
        cuEventDestroy = b.bind("cuEventDestroy", ADDRESS);
        cuLaunchKernel = b.bind("cuLaunchKernel", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        cuStreamBeginCapture = b.bind("cuStreamBeginCapture", ADDRESS, JAVA_INT);
        cuStreamEndCapture = b.bind("cuStreamEndCapture", ADDRESS, ADDRESS);
        cuGraphInstantiateWithFlags = b.bind("cuGraphInstantiateWithFlags", ADDRESS, ADDRESS, JAVA_LONG);
        cuGraphLaunch = b.bind("cuGraphLaunch", ADDRESS, ADDRESS);
        cuGraphExecDestroy = b.bind("cuGraphExecDestroy", ADDRESS);
        cuGraphDestroy = b.bind("cuGraphDestroy", ADDRESS);
        cuGetErrorName = b.bind("cuGetErrorName", JAVA_INT, ADDRESS);
    }

    /** Where the library was found. */
    public String libraryPath() {
        return libraryPath;
    }

    /**
     * Finds and binds {@code libcuda.so.1}; empty with the reason when it is not there (no NVIDIA driver
     * installed), so callers can fall back to the CPU backend and log why.
     */
    public static Result load() {
        List<String> tried = new ArrayList<>();
        List<String> candidates = new ArrayList<>();
        String prop = System.getProperty("jllm.libcuda");
        if (prop != null && !prop.isBlank()) candidates.add(prop);
        String env = System.getenv("JLLM_LIBCUDA");
        if (env != null && !env.isBlank()) candidates.add(env);
        candidates.add(LIBRARY);
        for (String folder : DRIVER_FOLDERS) candidates.add(folder + "/" + LIBRARY);
        for (String candidate : candidates) {
            boolean byName = !candidate.contains("/");
            if (!byName && !Files.exists(Path.of(candidate))) {
                tried.add(candidate + " (absent)");
                continue;
            }
            try {
                SymbolLookup lookup = byName
                        ? SymbolLookup.libraryLookup(candidate, Arena.global())
                        : SymbolLookup.libraryLookup(Path.of(candidate), Arena.global());
                return new Result(Optional.of(new NativeCudaDriver(lookup, candidate)), "loaded " + candidate);
            } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
                tried.add(candidate + " (" + e.getMessage() + ")");
            }
        }
        return new Result(Optional.empty(), "no CUDA driver: " + LIBRARY + " not found; tried " + String.join(", ", tried));
    }

    /** Binds the library at {@code path} (a stand-in in tests, a specific driver build). */
    public static NativeCudaDriver loadFrom(Path path) {
        return new NativeCudaDriver(SymbolLookup.libraryLookup(path, Arena.global()), path.toString());
    }

    /** Outcome of {@link #load()}: the driver, or why there is none. */
    public record Result(Optional<CudaDriver> driver, String reason) {
    }

    /** Looks up each symbol (versioned where cuda.h says so) and makes its downcall handle. */
    private static final class Binder {
        private final SymbolLookup lib;

        Binder(SymbolLookup lib) {
            this.lib = lib;
        }

        MethodHandle bind(String name, MemoryLayout... args) {
            String symbol = symbolFor(name);
            MemorySegment address = lib.find(symbol)
                    .orElseThrow(() -> new UnsatisfiedLinkError("libcuda has no symbol " + symbol + " (for " + name + "); driver too old?"));
            return LINKER.downcallHandle(address, FunctionDescriptor.of(JAVA_INT, args));
        }
    }

    /** The exported symbol for a {@link CudaDriver} method name. */
    static String symbolFor(String name) {
        for (String[] pair : SYMBOLS) {
            if (pair[0].equals(name)) return pair[1];
        }
        return name;
    }

    private static MemorySegment ptr(long handle) {
        return MemorySegment.ofAddress(handle);
    }

    private static int call(MethodHandle h, Object... args) {
        try {
            return (int) h.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    // Hot paths use invokeExact through typed casts; the rest go through call(...).
    @Override public int cuInit(int flags) { return call(cuInit, flags); }
    @Override public int cuDriverGetVersion(MemorySegment out) { return call(cuDriverGetVersion, out); }
    @Override public int cuDeviceGetCount(MemorySegment out) { return call(cuDeviceGetCount, out); }
    @Override public int cuDeviceGet(MemorySegment out, int ordinal) { return call(cuDeviceGet, out, ordinal); }
    @Override public int cuDeviceGetName(MemorySegment out, int len, int dev) { return call(cuDeviceGetName, out, len, dev); }
    @Override public int cuDeviceGetAttribute(MemorySegment out, int attr, int dev) { return call(cuDeviceGetAttribute, out, attr, dev); }
    @Override public int cuDeviceTotalMem(MemorySegment out, int dev) { return call(cuDeviceTotalMem, out, dev); }
    @Override public int cuDevicePrimaryCtxRetain(MemorySegment out, int dev) { return call(cuDevicePrimaryCtxRetain, out, dev); }
    @Override public int cuDevicePrimaryCtxRelease(int dev) { return call(cuDevicePrimaryCtxRelease, dev); }
    @Override public int cuCtxSetCurrent(long ctx) { return call(cuCtxSetCurrent, ptr(ctx)); }
    @Override public int cuCtxSynchronize() { return call(cuCtxSynchronize); }
    @Override public int cuModuleLoadData(MemorySegment out, MemorySegment image) { return call(cuModuleLoadData, out, image); }
    @Override public int cuModuleUnload(long module) { return call(cuModuleUnload, ptr(module)); }
    @Override public int cuModuleGetFunction(MemorySegment out, long module, MemorySegment name) { return call(cuModuleGetFunction, out, ptr(module), name); }
    @Override public int cuFuncSetAttribute(long fn, int attr, int value) { return call(cuFuncSetAttribute, ptr(fn), attr, value); }
    @Override public int cuMemAlloc(MemorySegment out, long bytes) { return call(cuMemAlloc, out, bytes); }
    @Override public int cuMemFree(long dptr) { return call(cuMemFree, dptr); }
    @Override public int cuMemGetInfo(MemorySegment free, MemorySegment total) { return call(cuMemGetInfo, free, total); }
    @Override public int cuMemHostAlloc(MemorySegment out, long bytes, int flags) { return call(cuMemHostAlloc, out, bytes, flags); }
    @Override public int cuMemFreeHost(MemorySegment p) { return call(cuMemFreeHost, p); }
    @Override public int cuMemcpyHtoDAsync(long dst, MemorySegment src, long bytes, long stream) { return call(cuMemcpyHtoDAsync, dst, src, bytes, ptr(stream)); }
    @Override public int cuMemcpyDtoHAsync(MemorySegment dst, long src, long bytes, long stream) { return call(cuMemcpyDtoHAsync, dst, src, bytes, ptr(stream)); }
    @Override public int cuMemcpyDtoDAsync(long dst, long src, long bytes, long stream) { return call(cuMemcpyDtoDAsync, dst, src, bytes, ptr(stream)); }
    @Override public int cuMemsetD32Async(long dst, int value, long count, long stream) { return call(cuMemsetD32Async, dst, value, count, ptr(stream)); }
    @Override public int cuStreamCreate(MemorySegment out, int flags) { return call(cuStreamCreate, out, flags); }
    @Override public int cuStreamDestroy(long stream) { return call(cuStreamDestroy, ptr(stream)); }
    @Override public int cuStreamSynchronize(long stream) { return call(cuStreamSynchronize, ptr(stream)); }
    @Override public int cuStreamWaitEvent(long stream, long event, int flags) { return call(cuStreamWaitEvent, ptr(stream), ptr(event), flags); }
    @Override public int cuEventCreate(MemorySegment out, int flags) { return call(cuEventCreate, out, flags); }
    @Override public int cuEventRecord(long event, long stream) { return call(cuEventRecord, ptr(event), ptr(stream)); }
    @Override public int cuEventSynchronize(long event) { return call(cuEventSynchronize, ptr(event)); }
    @Override public int cuEventElapsedTime(MemorySegment ms, long start, long end) { return call(cuEventElapsedTime, ms, ptr(start), ptr(end)); }
    @Override public int cuEventDestroy(long event) { return call(cuEventDestroy, ptr(event)); }

    @Override
    public int cuLaunchKernel(long fn, int gx, int gy, int gz, int bx, int by, int bz, int smem, long stream,
                              MemorySegment params, MemorySegment extra) {
        try {
            return (int) cuLaunchKernel.invokeExact(ptr(fn), gx, gy, gz, bx, by, bz, smem, ptr(stream), params, extra);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override public int cuStreamBeginCapture(long stream, int mode) { return call(cuStreamBeginCapture, ptr(stream), mode); }
    @Override public int cuStreamEndCapture(long stream, MemorySegment out) { return call(cuStreamEndCapture, ptr(stream), out); }
    @Override public int cuGraphInstantiateWithFlags(MemorySegment out, long graph, long flags) { return call(cuGraphInstantiateWithFlags, out, ptr(graph), flags); }
    @Override public int cuGraphLaunch(long exec, long stream) { return call(cuGraphLaunch, ptr(exec), ptr(stream)); }
    @Override public int cuGraphExecDestroy(long exec) { return call(cuGraphExecDestroy, ptr(exec)); }
    @Override public int cuGraphDestroy(long graph) { return call(cuGraphDestroy, ptr(graph)); }
    @Override public int cuGetErrorName(int error, MemorySegment out) { return call(cuGetErrorName, error, out); }
}
