package dev.jllm.cuda.ffm;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static dev.jllm.cuda.ffm.ParamKind.F32;
import static dev.jllm.cuda.ffm.ParamKind.I32;
import static dev.jllm.cuda.ffm.ParamKind.I64;
import static dev.jllm.cuda.ffm.ParamKind.PTR;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The binding layer against {@link FakeCudaDriver}: marshalling, error mapping, lifetimes, threading. */
class CudaDeviceTest {
    private FakeCudaDriver fake;
    private CudaDevice dev;

    @BeforeEach
    void open() {
        fake = new FakeCudaDriver();
        fake.paramCountByName.put("k", 5);
        dev = CudaDevice.open(fake, 0, false);
    }

    @AfterEach
    void close() {
        dev.close();
    }

    private CudaFunction kernel() {
        long module = dev.loadModule(new byte[]{1, 2, 3}, "test image");
        return dev.function(module, "k", List.of(PTR, I32, F32, I64, PTR));
    }

    @Test
    void openRetainsThePrimaryContextAndReadsTheDevice() {
        assertEquals("Fake GPU", dev.name());
        assertEquals(90, dev.computeCapability());
        assertEquals(132, dev.multiprocessors());
        List<String> names = fake.callNames();
        assertTrue(names.indexOf("cuInit") < names.indexOf("cuDevicePrimaryCtxRetain"));
        assertTrue(names.indexOf("cuDevicePrimaryCtxRetain") < names.indexOf("cuCtxSetCurrent"));
    }

    @Test
    void launchMarshalsEachArgumentAsItsCType() {
        CudaFunction fn = kernel();
        DeviceBuffer a = dev.memory().allocate("a", 1000);
        DeviceBuffer b = dev.memory().allocate("b", 64);
        long stream = dev.createStream();
        dev.launch(fn, LaunchConfig.of(7, 3, 2, 128, 4096), stream,
                KernelArgs.create().ptr(a).i32(-5).f32(1.25f).i64(1L << 40).ptr(b, 16));
        FakeCudaDriver.Launch l = fake.launches.getFirst();
        assertEquals(fn.handle(), l.function());
        assertEquals(7, l.gridX());
        assertEquals(3, l.gridY());
        assertEquals(2, l.gridZ());
        assertEquals(128, l.blockX());
        assertEquals(4096, l.sharedMem());
        assertEquals(stream, l.stream());
        assertEquals(a.address(), l.paramLong(0));
        assertEquals(-5, l.paramInt(1));
        assertEquals(1.25f, l.paramFloat(2));
        assertEquals(1L << 40, l.paramLong(3));
        assertEquals(b.address() + 16, l.paramLong(4));
    }

    @Test
    void argumentsThatDoNotMatchTheSignatureNeverReachTheDriver() {
        CudaFunction fn = kernel();
        DeviceBuffer a = dev.memory().allocate("a", 8);
        var tooFew = KernelArgs.create().ptr(a).i32(1);
        var e1 = assertThrows(IllegalArgumentException.class, () -> dev.launch(fn, LaunchConfig.of(1, 32), 0, tooFew));
        assertTrue(e1.getMessage().contains("k takes 5 arguments"), e1.getMessage());
        var wrongKind = KernelArgs.create().ptr(a).f32(1).f32(1).i64(1).ptr(a);
        var e2 = assertThrows(IllegalArgumentException.class, () -> dev.launch(fn, LaunchConfig.of(1, 32), 0, wrongKind));
        assertTrue(e2.getMessage().contains("argument 1 must be I32, got F32"), e2.getMessage());
        assertEquals(0, fake.count("cuLaunchKernel"));
    }

    @Test
    void errorsNameTheCallTheErrorAndTheContext() {
        fake.failNext("cuMemAlloc", CudaErrors.CUDA_ERROR_OUT_OF_MEMORY);
        CudaException e = assertThrows(CudaException.class, () -> dev.memory().allocate("kv cache", 1L << 30));
        assertEquals("cuMemAlloc_v2", e.call());
        assertEquals(2, e.code());
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY_FROM_DRIVER", e.errorName());
        assertTrue(e.getMessage().contains("'kv cache'"), e.getMessage());
        assertEquals(0, dev.memory().liveDeviceBuffers().size());
    }

    @Test
    void errorNamesFallBackToTheTableWhenCuGetErrorNameFails() {
        fake.errorNameWorks = false;
        CudaFunction fn = kernel();
        fake.failNext("cuLaunchKernel", CudaErrors.CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES);
        DeviceBuffer a = dev.memory().allocate("a", 8);
        CudaException e = assertThrows(CudaException.class, () -> dev.launch(fn, LaunchConfig.of(1, 32), 0,
                KernelArgs.create().ptr(a).i32(1).f32(1).i64(1).ptr(a)));
        assertEquals("cuLaunchKernel", e.call());
        assertEquals("CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", e.errorName());
        assertTrue(e.getMessage().contains("k grid 1x1x1 block 32"), e.getMessage());
        assertEquals("CUDA_ERROR_12345", CudaErrors.name(12345));
    }

    @Test
    void debugModeSynchronizesAfterEveryLaunchAndBlamesTheKernel() {
        FakeCudaDriver f2 = new FakeCudaDriver();
        f2.paramCountByName.put("k", 5);
        try (CudaDevice debug = CudaDevice.open(f2, 0, true)) {
            long module = debug.loadModule(new byte[]{1}, "x");
            CudaFunction fn = debug.function(module, "k", List.of(PTR, I32, F32, I64, PTR));
            DeviceBuffer a = debug.memory().allocate("a", 8);
            KernelArgs args = KernelArgs.create().ptr(a).i32(1).f32(1).i64(1).ptr(a);
            debug.launch(fn, LaunchConfig.of(1, 32), 0, args);
            List<String> names = f2.callNames();
            assertEquals("cuStreamSynchronize", names.get(names.lastIndexOf("cuLaunchKernel") + 1));
            f2.failNext("cuStreamSynchronize", CudaErrors.CUDA_ERROR_ILLEGAL_ADDRESS);
            CudaException e = assertThrows(CudaException.class, () -> debug.launch(fn, LaunchConfig.of(1, 32), 0, args));
            assertEquals("cuStreamSynchronize", e.call());
            assertTrue(e.getMessage().contains("debug sync after k"), e.getMessage());
        }
        long before = fake.count("cuStreamSynchronize");
        CudaFunction fn = kernel();
        DeviceBuffer a = dev.memory().allocate("a", 8);
        dev.launch(fn, LaunchConfig.of(1, 32), 0, KernelArgs.create().ptr(a).i32(1).f32(1).i64(1).ptr(a));
        assertEquals(before, fake.count("cuStreamSynchronize"), "no sync without debug mode");
    }

    @Test
    void everyDriverCallRunsOnTheCudaThread() throws Exception {
        CudaFunction fn = kernel();
        Thread other = new Thread(() -> {
            DeviceBuffer a = dev.memory().allocate("from another thread", 64);
            dev.launch(fn, LaunchConfig.of(1, 32), 0, KernelArgs.create().ptr(a).i32(1).f32(1).i64(1).ptr(a));
            dev.memory().free(a);
        }, "some-worker");
        other.start();
        other.join();
        dev.memory().allocatePinned("pinned", 128);
        assertFalse(fake.calls.isEmpty());
        for (FakeCudaDriver.Call c : fake.calls) assertEquals("cuda-0", c.thread(), c.name() + " ran on " + c.thread());
        assertThrows(IllegalStateException.class, () -> dev.check("cuInit", 0, null), "check off the CUDA thread");
    }

    @Test
    void deviceBuffersAreFreedExactlyOnceAndNeverUsedAfterFree() {
        CudaFunction fn = kernel();
        DeviceBuffer a = dev.memory().allocate("weights", 4096);
        long address = a.address();
        dev.memory().free(a);
        assertEquals(List.of(address), fake.freedDevice);
        var twice = assertThrows(IllegalStateException.class, () -> dev.memory().free(a));
        assertTrue(twice.getMessage().contains("'weights' freed twice"), twice.getMessage());
        var use = assertThrows(IllegalStateException.class, () -> dev.launch(fn, LaunchConfig.of(1, 32), 0,
                KernelArgs.create().ptr(a).i32(1).f32(1).i64(1).ptr(a)));
        assertTrue(use.getMessage().contains("'weights' used after free"), use.getMessage());
        assertEquals(0, fake.count("cuLaunchKernel"));
        assertEquals(1, fake.count("cuMemFree"));
    }

    @Test
    void outOfRangeOffsetsAreRefused() {
        DeviceBuffer a = dev.memory().allocate("x", 100);
        assertThrows(IndexOutOfBoundsException.class, () -> KernelArgs.create().ptr(a, 101));
        assertThrows(IndexOutOfBoundsException.class, () -> a.address(96, 8));
        assertEquals(a.address() + 96, a.address(96, 4));
    }

    @Test
    void viewsShareTheirOwnersLifetimeAndAreNeverFreedThemselves() {
        DeviceBuffer a = dev.memory().allocate("activations", 1024);
        DeviceBuffer row = a.view("row 3", 3 * 128, 128);
        assertEquals(a.address() + 384, row.address());
        assertThrows(IndexOutOfBoundsException.class, () -> a.view("past the end", 1000, 128));
        assertThrows(IllegalArgumentException.class, () -> dev.memory().free(row), "a view is not an allocation");
        dev.memory().free(a);
        assertTrue(row.isFreed());
        var e = assertThrows(IllegalStateException.class, row::address);
        assertTrue(e.getMessage().contains("'row 3' used after free"), e.getMessage());
    }

    @Test
    void pinnedMemoryIsInaccessibleAfterFree() {
        PinnedBuffer p = dev.memory().allocatePinned("staging", 256);
        MemorySegment s = p.segment();
        s.set(ValueLayout.JAVA_INT, 0, 42);
        assertEquals(42, s.get(ValueLayout.JAVA_INT, 0));
        dev.memory().free(p);
        assertThrows(IllegalStateException.class, () -> s.get(ValueLayout.JAVA_INT, 0), "segment closed with the buffer");
        assertThrows(IllegalStateException.class, p::segment);
        assertThrows(IllegalStateException.class, () -> dev.memory().free(p));
        assertTrue(fake.livePinned.isEmpty());
    }

    @Test
    void closeFreesEverythingOnceNewestFirstAndRefusesLaterUse() {
        DeviceBuffer a = dev.memory().allocate("a", 10);
        DeviceBuffer b = dev.memory().allocate("b", 20);
        DeviceBuffer c = dev.memory().allocate("c", 30);
        dev.memory().free(b);
        PinnedBuffer p = dev.memory().allocatePinned("p", 64);
        long stream = dev.createStream();
        CudaDevice.CudaGraph g = dev.capture(stream, () -> { });
        assertEquals(40, dev.memory().liveDeviceBytes());
        assertTrue(stream != 0 && g.exec() != 0);
        dev.close();
        assertEquals(List.of(b.rawAddress(), c.rawAddress(), a.rawAddress()), fake.freedDevice);
        assertTrue(fake.liveDevice.isEmpty());
        assertTrue(fake.livePinned.isEmpty());
        assertTrue(a.isFreed() && c.isFreed() && p.isFreed());
        assertEquals(1, fake.count("cuGraphExecDestroy"));
        assertEquals(1, fake.count("cuStreamDestroy"));
        assertEquals(1, fake.count("cuDevicePrimaryCtxRelease"));
        List<String> names = fake.callNames();
        assertTrue(names.lastIndexOf("cuGraphDestroy") < names.lastIndexOf("cuMemFree"));
        assertTrue(names.lastIndexOf("cuMemFree") < names.lastIndexOf("cuStreamDestroy"));
        assertTrue(names.lastIndexOf("cuModuleUnload") < names.lastIndexOf("cuDevicePrimaryCtxRelease") || !names.contains("cuModuleUnload"));
        dev.close();  // idempotent: nothing freed twice
        assertEquals(3, fake.count("cuMemFree"));
    }

    @Test
    void captureTurnsTheEnqueuedWorkIntoAGraphWithoutDebugSyncs() {
        FakeCudaDriver f2 = new FakeCudaDriver();
        f2.paramCountByName.put("k", 5);
        try (CudaDevice debug = CudaDevice.open(f2, 0, true)) {
            long module = debug.loadModule(new byte[]{1}, "x");
            CudaFunction fn = debug.function(module, "k", List.of(PTR, I32, F32, I64, PTR));
            DeviceBuffer a = debug.memory().allocate("a", 8);
            long stream = debug.createStream();
            long syncsBefore = f2.count("cuStreamSynchronize");
            CudaDevice.CudaGraph g = debug.capture(stream, () ->
                    debug.launch(fn, LaunchConfig.of(1, 32), stream, KernelArgs.create().ptr(a).i32(1).f32(1).i64(1).ptr(a)));
            assertEquals(syncsBefore, f2.count("cuStreamSynchronize"), "no synchronization inside a capture");
            List<String> names = f2.callNames();
            int begin = names.indexOf("cuStreamBeginCapture");
            assertTrue(begin >= 0 && begin < names.indexOf("cuLaunchKernel"));
            assertTrue(names.indexOf("cuLaunchKernel") < names.indexOf("cuStreamEndCapture"));
            assertTrue(names.indexOf("cuStreamEndCapture") < names.indexOf("cuGraphInstantiateWithFlags"));
            debug.launchGraph(g, stream);
            assertEquals(1, f2.count("cuGraphLaunch"));
            debug.destroyGraph(g);
            assertThrows(IllegalStateException.class, () -> debug.launchGraph(g, stream));
        }
    }

    @Test
    void aFailingCaptureBodyEndsTheCaptureAndRethrows() {
        long stream = dev.createStream();
        RuntimeException boom = new RuntimeException("boom");
        RuntimeException e = assertThrows(RuntimeException.class, () -> dev.capture(stream, () -> { throw boom; }));
        assertEquals(boom, e);
        assertEquals(1, fake.count("cuStreamEndCapture"));
        assertEquals(1, fake.count("cuGraphDestroy"));
        assertEquals(0, fake.count("cuGraphInstantiateWithFlags"));
    }

    @Test
    void uploadStagesThroughPinnedMemoryInChunks() {
        DeviceBuffer d = dev.memory().allocate("w", 1000);
        PinnedBuffer staging = dev.memory().allocatePinned("staging", 256);
        MemorySegment src = MemorySegment.ofArray(new byte[1000]);
        dev.upload(d, 0, src, staging, 0);
        assertEquals(4, fake.count("cuMemcpyHtoDAsync"));
        assertThrows(IndexOutOfBoundsException.class, () -> dev.upload(d, 1, src, staging, 0));
    }

    @Test
    void allocationSizesAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> dev.memory().allocate("empty", 0));
        assertThrows(IllegalArgumentException.class, () -> LaunchConfig.of(0, 32));
        assertThrows(IllegalArgumentException.class, () -> LaunchConfig.of(1, 2048));
        assertEquals(3, LaunchConfig.blocks(17, 8));
    }
}
