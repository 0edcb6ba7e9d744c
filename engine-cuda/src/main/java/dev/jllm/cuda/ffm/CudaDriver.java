package dev.jllm.cuda.ffm;

import java.lang.foreign.MemorySegment;

/**
 * The CUDA driver API calls jllm uses, shaped exactly like {@code cuda.h}: every method returns the raw
 * {@code CUresult} (0 = success) and writes results through out-pointers. Handles ({@code CUcontext},
 * {@code CUmodule}, {@code CUfunction}, {@code CUstream}, {@code CUgraph}, {@code CUgraphExec},
 * {@code CUevent}) and device pointers ({@code CUdeviceptr}) travel as {@code long}; {@code 0} is the
 * default stream / null handle.
 *
 * <p>{@link NativeCudaDriver} binds these to {@code libcuda.so.1} through {@code java.lang.foreign}, using
 * the versioned symbols that {@code cuda.h} maps each name to (noted per method). Nothing here checks
 * results: {@link CudaDevice} does, and tests substitute a fake implementation.
 */
public interface CudaDriver {
    /** {@code cuInit}. */
    int cuInit(int flags);

    /** {@code cuDriverGetVersion}: writes an int. */
    int cuDriverGetVersion(MemorySegment versionOut);

    /** {@code cuDeviceGetCount}: writes an int. */
    int cuDeviceGetCount(MemorySegment countOut);

    /** {@code cuDeviceGet}: writes a {@code CUdevice} (int). */
    int cuDeviceGet(MemorySegment deviceOut, int ordinal);

    /** {@code cuDeviceGetName}: writes a NUL-terminated name of at most {@code len} bytes. */
    int cuDeviceGetName(MemorySegment nameOut, int len, int device);

    /** {@code cuDeviceGetAttribute}: writes an int. */
    int cuDeviceGetAttribute(MemorySegment valueOut, int attribute, int device);

    /** {@code cuDeviceTotalMem} = {@code cuDeviceTotalMem_v2}: writes a size_t. */
    int cuDeviceTotalMem(MemorySegment bytesOut, int device);

    /** {@code cuDevicePrimaryCtxRetain}: writes a {@code CUcontext}. */
    int cuDevicePrimaryCtxRetain(MemorySegment contextOut, int device);

    /** {@code cuDevicePrimaryCtxRelease} = {@code cuDevicePrimaryCtxRelease_v2}. */
    int cuDevicePrimaryCtxRelease(int device);

    /** {@code cuCtxSetCurrent}. */
    int cuCtxSetCurrent(long context);

    /** {@code cuCtxSynchronize}. */
    int cuCtxSynchronize();

    /** {@code cuModuleLoadData}: {@code image} holds a fatbin, cubin or NUL-terminated PTX. */
    int cuModuleLoadData(MemorySegment moduleOut, MemorySegment image);

    /** {@code cuModuleUnload}. */
    int cuModuleUnload(long module);

    /** {@code cuModuleGetFunction}: {@code name} is a NUL-terminated C string. */
    int cuModuleGetFunction(MemorySegment functionOut, long module, MemorySegment name);

    /** {@code cuFuncSetAttribute} (e.g. max dynamic shared memory). */
    int cuFuncSetAttribute(long function, int attribute, int value);

    /** {@code cuMemAlloc} = {@code cuMemAlloc_v2}: writes a {@code CUdeviceptr}. */
    int cuMemAlloc(MemorySegment devicePtrOut, long bytes);

    /** {@code cuMemFree} = {@code cuMemFree_v2}. */
    int cuMemFree(long devicePtr);

    /** {@code cuMemGetInfo} = {@code cuMemGetInfo_v2}: writes two size_t. */
    int cuMemGetInfo(MemorySegment freeOut, MemorySegment totalOut);

    /** {@code cuMemHostAlloc}: page-locked host memory; writes a pointer. */
    int cuMemHostAlloc(MemorySegment hostPtrOut, long bytes, int flags);

    /** {@code cuMemFreeHost}. */
    int cuMemFreeHost(MemorySegment hostPtr);

    /** {@code cuMemcpyHtoDAsync} = {@code cuMemcpyHtoDAsync_v2}. */
    int cuMemcpyHtoDAsync(long dst, MemorySegment src, long bytes, long stream);

    /** {@code cuMemcpyDtoHAsync} = {@code cuMemcpyDtoHAsync_v2}. */
    int cuMemcpyDtoHAsync(MemorySegment dst, long src, long bytes, long stream);

    /** {@code cuMemcpyDtoDAsync} = {@code cuMemcpyDtoDAsync_v2}. */
    int cuMemcpyDtoDAsync(long dst, long src, long bytes, long stream);

    /** {@code cuMemsetD32Async}: {@code count} 32-bit words. */
    int cuMemsetD32Async(long dst, int value, long count, long stream);

    /** {@code cuStreamCreate}: writes a {@code CUstream}. */
    int cuStreamCreate(MemorySegment streamOut, int flags);

    /** {@code cuStreamDestroy} = {@code cuStreamDestroy_v2}. */
    int cuStreamDestroy(long stream);

    /** {@code cuStreamSynchronize}. */
    int cuStreamSynchronize(long stream);

    /** {@code cuStreamWaitEvent}. */
    int cuStreamWaitEvent(long stream, long event, int flags);

    /** {@code cuEventCreate}: writes a {@code CUevent}. */
    int cuEventCreate(MemorySegment eventOut, int flags);

    /** {@code cuEventRecord}. */
    int cuEventRecord(long event, long stream);

    /** {@code cuEventSynchronize}. */
    int cuEventSynchronize(long event);

    /** {@code cuEventElapsedTime} (= {@code cuEventElapsedTime_v2} from CUDA 12.8): writes a float (ms). */
    int cuEventElapsedTime(MemorySegment millisOut, long start, long end);

    /** {@code cuEventDestroy} = {@code cuEventDestroy_v2}. */
    int cuEventDestroy(long event);

    /**
     * {@code cuLaunchKernel}: {@code kernelParams} is a {@code void*[]} with one pointer per kernel
     * parameter, each pointing at that parameter's value; {@code extra} is NULL here.
     */
    int cuLaunchKernel(long function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                       int sharedMemBytes, long stream, MemorySegment kernelParams, MemorySegment extra);

    /** {@code cuStreamBeginCapture} = {@code cuStreamBeginCapture_v2}. */
    int cuStreamBeginCapture(long stream, int mode);

    /** {@code cuStreamEndCapture}: writes a {@code CUgraph}. */
    int cuStreamEndCapture(long stream, MemorySegment graphOut);

    /** {@code cuGraphInstantiateWithFlags}: writes a {@code CUgraphExec}. */
    int cuGraphInstantiateWithFlags(MemorySegment graphExecOut, long graph, long flags);

    /** {@code cuGraphLaunch}. */
    int cuGraphLaunch(long graphExec, long stream);

    /** {@code cuGraphExecDestroy}. */
    int cuGraphExecDestroy(long graphExec);

    /** {@code cuGraphDestroy}. */
    int cuGraphDestroy(long graph);

    /** {@code cuGetErrorName}: writes a pointer to a static C string such as "CUDA_ERROR_OUT_OF_MEMORY". */
    int cuGetErrorName(int error, MemorySegment nameOut);
}
