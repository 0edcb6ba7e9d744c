package dev.jllm.cuda.ffm;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real FFM bindings ({@link NativeCudaDriver}) against a stand-in {@code libcuda.so.1} compiled from
 * {@code src/test/c/stub_libcuda.c}: every versioned symbol resolves, values cross the boundary intact
 * (copies really copy, launch parameters arrive as their C types), errors are named by the library's
 * {@code cuGetErrorName}, and close frees everything. Also checks the versioned names against the
 * installed {@code cuda.h} where there is one. Skipped visibly without a C compiler.
 */
class NativeCudaDriverTest {
    private static NativeCudaDriver driver;
    private static SymbolLookup stub;
    private static CudaDevice dev;

    @BeforeAll
    static void buildStub() throws IOException, InterruptedException {
        Path src = Files.isDirectory(Path.of("src/test/c")) ? Path.of("src/test/c/stub_libcuda.c") : Path.of("engine-cuda/src/test/c/stub_libcuda.c");
        Path dir = Files.createTempDirectory("stub-libcuda");
        Path lib = dir.resolve("libcuda.so.1");
        Process p;
        try {
            p = new ProcessBuilder("cc", "-shared", "-fPIC", "-O1", "-o", lib.toString(), src.toString()).inheritIO().start();
        } catch (IOException e) {
            return;  // no C compiler: the tests skip
        }
        if (p.waitFor() != 0 || !Files.exists(lib)) return;
        driver = NativeCudaDriver.loadFrom(lib);
        stub = SymbolLookup.libraryLookup(lib, Arena.global());
        dev = CudaDevice.open(driver, 0, true);
    }

    @AfterAll
    static void close() {
        if (dev != null) dev.close();
    }

    private static void assumeStub() {
        assumeTrue(driver != null, "no C compiler (cc) to build the stand-in libcuda.so.1");
    }

    private static MethodHandle hook(String name, FunctionDescriptor fd) {
        return Linker.nativeLinker().downcallHandle(stub.find(name).orElseThrow(), fd);
    }

    @Test
    void openReadsTheDeviceThroughTheBindings() {
        assumeStub();
        assertEquals("Stub GPU", dev.name());
        assertEquals(90, dev.computeCapability());
        assertEquals(132, dev.multiprocessors());
        assertEquals(80L << 30, dev.totalMemory());
    }

    @Test
    void copiesRoundTripThroughPinnedStaging() {
        assumeStub();
        float[] data = new float[1000];
        for (int i = 0; i < data.length; i++) data[i] = i * 0.5f - 7;
        DeviceBuffer b = dev.memory().allocate("round trip", 4000);
        PinnedBuffer staging = dev.memory().allocatePinned("staging", 1024);  // several chunks
        dev.upload(b, 0, MemorySegment.ofArray(data), staging, 0);
        float[] back = new float[1000];
        dev.download(MemorySegment.ofArray(back), b, 0, staging, 0);
        assertArrayEquals(data, back);
        dev.fill32(b, 8, Float.floatToRawIntBits(3f), 2, 0);
        dev.download(MemorySegment.ofArray(back), b, 0, staging, 0);
        assertEquals(3f, back[2]);
        assertEquals(3f, back[3]);
        assertEquals(data[4], back[4]);
        dev.memory().free(b);
        dev.memory().free(staging);
    }

    @Test
    void launchParametersArriveAsTheirCTypes() throws Throwable {
        assumeStub();
        hook("stub_set_param_count", FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT)).invokeExact(5);
        long module = dev.loadModule(new byte[]{1, 2, 3}, "image");
        CudaFunction fn = dev.function(module, "kernel", List.of(ParamKind.PTR, ParamKind.I32, ParamKind.F32, ParamKind.I64, ParamKind.PTR));
        DeviceBuffer a = dev.memory().allocate("a", 64);
        dev.launch(fn, new LaunchConfig(3, 2, 1, 128, 1, 1, 512), 0,
                KernelArgs.create().ptr(a).i32(-42).f32(0.75f).i64(-(1L << 40)).ptr(a, 16));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dims = arena.allocate(ValueLayout.JAVA_INT, 7), params = arena.allocate(ValueLayout.JAVA_LONG, 16);
            hook("stub_last_launch", FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS)).invokeExact(dims, params);
            assertArrayEquals(new int[]{3, 2, 1, 128, 1, 1, 512}, dims.toArray(ValueLayout.JAVA_INT));
            assertEquals(a.address(), params.getAtIndex(ValueLayout.JAVA_LONG, 0));
            assertEquals(-42, params.asSlice(8).get(ValueLayout.JAVA_INT, 0));
            assertEquals(0.75f, params.asSlice(16).get(ValueLayout.JAVA_FLOAT, 0));
            assertEquals(-(1L << 40), params.getAtIndex(ValueLayout.JAVA_LONG, 3));
            assertEquals(a.address() + 16, params.getAtIndex(ValueLayout.JAVA_LONG, 4));
        }
        dev.memory().free(a);
    }

    @Test
    void errorsAreNamedByTheLibrary() throws Throwable {
        assumeStub();
        hook("stub_fail_next_alloc", FunctionDescriptor.ofVoid()).invokeExact();
        CudaException e = assertThrows(CudaException.class, () -> dev.memory().allocate("too big", 1 << 20));
        assertEquals("cuMemAlloc_v2", e.call());
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.errorName());
        long module = dev.loadModule(new byte[]{1}, "image");
        CudaException missing = assertThrows(CudaException.class, () -> dev.function(module, "missing", List.of()));
        assertEquals("CUDA_ERROR_NOT_FOUND", missing.errorName());
        assertTrue(missing.getMessage().contains("missing"), missing.getMessage());
    }

    @Test
    void closeFreesEveryAllocation() throws Throwable {
        assumeStub();
        CudaDevice second = CudaDevice.open(driver, 0, false);
        int before = (int) hook("stub_live_allocs", FunctionDescriptor.of(ValueLayout.JAVA_INT)).invokeExact();
        second.memory().allocate("x", 100);
        second.memory().allocate("y", 100);
        second.memory().allocatePinned("z", 100);
        assertEquals(before + 3, (int) hook("stub_live_allocs", FunctionDescriptor.of(ValueLayout.JAVA_INT)).invokeExact());
        second.close();
        assertEquals(before, (int) hook("stub_live_allocs", FunctionDescriptor.of(ValueLayout.JAVA_INT)).invokeExact());
    }

    /** Each CudaDriver call binds the symbol cuda.h maps its name to (checked where the header is installed). */
    @Test
    void versionedSymbolsMatchCudaH() throws IOException {
        Path header = null;
        for (String p : List.of("/usr/local/cuda/include/cuda.h", "/usr/local/cuda-13.0/include/cuda.h", "/usr/include/cuda.h")) {
            if (Files.exists(Path.of(p))) header = Path.of(p);
        }
        assumeTrue(header != null, "cuda.h not installed");
        String h = Files.readString(header);
        Pattern define = Pattern.compile("#define\\s+(cu\\w+)\\s+(?:__CUDA_API_PTSZ\\(|__CUDA_API_PTDS\\()?(cu\\w+)\\)?");
        java.util.Map<String, String> map = new java.util.HashMap<>();
        Matcher m = define.matcher(h);
        while (m.find()) map.putIfAbsent(m.group(1), m.group(2));
        int checked = 0;
        for (Method method : CudaDriver.class.getDeclaredMethods()) {
            String name = method.getName();
            String expected = map.getOrDefault(name, name);
            assertEquals(expected, NativeCudaDriver.symbolFor(name), name + " per " + header);
            checked++;
        }
        assertTrue(checked >= 40, "checked " + checked);
        assertTrue(map.containsKey("cuMemAlloc"), "parsed the header's versioned names");
    }
}
