/*
 * A stand-in for libcuda.so.1 with no GPU behind it, for NativeCudaDriverTest: it exports the versioned
 * symbols cuda.h maps each call to, keeps "device" memory in host memory (so copies really copy), and
 * records the last kernel launch (dimensions and the first 8 bytes of each of its first 16 parameters).
 * Built by the test with the system C compiler: cc -shared -fPIC -o libcuda.so.1 stub_libcuda.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
static int initialized = 0;
static int live_allocs = 0;
static unsigned launch_dims[7];
static unsigned long long launch_params[16];
static int fail_next_alloc = 0;
static int param_count = 0;

CUresult cuInit(unsigned flags) { initialized = 1; return 0; }
CUresult cuDriverGetVersion(int *v) { *v = 13000; return 0; }
CUresult cuDeviceGetCount(int *n) { if (!initialized) return 3; *n = 1; return 0; }
CUresult cuDeviceGet(int *d, int ordinal) { if (ordinal != 0) return 101; *d = 0; return 0; }
CUresult cuDeviceGetName(char *name, int len, int dev) { strncpy(name, "Stub GPU", len); return 0; }
CUresult cuDeviceGetAttribute(int *v, int attr, int dev) { *v = attr == 75 ? 9 : attr == 76 ? 0 : attr == 16 ? 132 : 0; return 0; }
CUresult cuDeviceTotalMem_v2(size_t *b, int dev) { *b = (size_t) 80 << 30; return 0; }
CUresult cuDevicePrimaryCtxRetain(void **ctx, int dev) { *ctx = (void *) 0x1234; return 0; }
CUresult cuDevicePrimaryCtxRelease_v2(int dev) { return 0; }
CUresult cuCtxSetCurrent(void *ctx) { return ctx == (void *) 0x1234 ? 0 : 201; }
CUresult cuCtxSynchronize(void) { return 0; }
CUresult cuModuleLoadData(void **m, const void *image) { *m = (void *) 0x5678; return 0; }
CUresult cuModuleUnload(void *m) { return 0; }
CUresult cuModuleGetFunction(void **f, void *m, const char *name) {
    if (strcmp(name, "missing") == 0) return 500;
    *f = (void *) (uintptr_t) (0x9000 + strlen(name));
    return 0;
}
CUresult cuFuncSetAttribute(void *f, int attr, int value) { return 0; }
CUresult cuMemAlloc_v2(unsigned long long *p, size_t bytes) {
    if (fail_next_alloc) { fail_next_alloc = 0; return 2; }
    *p = (unsigned long long) (uintptr_t) malloc(bytes);
    live_allocs++;
    return 0;
}
CUresult cuMemFree_v2(unsigned long long p) { free((void *) (uintptr_t) p); live_allocs--; return 0; }
CUresult cuMemGetInfo_v2(size_t *f, size_t *t) { *f = 1; *t = 2; return 0; }
CUresult cuMemHostAlloc(void **p, size_t bytes, unsigned flags) { *p = malloc(bytes); live_allocs++; return 0; }
CUresult cuMemFreeHost(void *p) { free(p); live_allocs--; return 0; }
CUresult cuMemcpyHtoDAsync_v2(unsigned long long dst, const void *src, size_t n, void *s) { memcpy((void *) (uintptr_t) dst, src, n); return 0; }
CUresult cuMemcpyDtoHAsync_v2(void *dst, unsigned long long src, size_t n, void *s) { memcpy(dst, (void *) (uintptr_t) src, n); return 0; }
CUresult cuMemcpyDtoDAsync_v2(unsigned long long dst, unsigned long long src, size_t n, void *s) { memcpy((void *) (uintptr_t) dst, (void *) (uintptr_t) src, n); return 0; }
CUresult cuMemsetD32Async(unsigned long long dst, unsigned v, size_t n, void *s) {
    unsigned *p = (unsigned *) (uintptr_t) dst;
    for (size_t i = 0; i < n; i++) p[i] = v;
    return 0;
}
CUresult cuStreamCreate(void **s, unsigned flags) { *s = (void *) 0x77; return 0; }
CUresult cuStreamDestroy_v2(void *s) { return 0; }
CUresult cuStreamSynchronize(void *s) { return 0; }
CUresult cuStreamWaitEvent(void *s, void *e, unsigned f) { return 0; }
CUresult cuEventCreate(void **e, unsigned f) { *e = (void *) 0x88; return 0; }
CUresult cuEventRecord(void *e, void *s) { return 0; }
CUresult cuEventSynchronize(void *e) { return 0; }
CUresult cuEventElapsedTime_v2(float *ms, void *a, void *b) { *ms = 2.5f; return 0; }
CUresult cuEventDestroy_v2(void *e) { return 0; }
CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned smem, void *stream, void **params, void **extra) {
    launch_dims[0] = gx; launch_dims[1] = gy; launch_dims[2] = gz;
    launch_dims[3] = bx; launch_dims[4] = by; launch_dims[5] = bz; launch_dims[6] = smem;
    for (int i = 0; i < param_count && i < 16; i++) memcpy(&launch_params[i], params[i], 8);
    return 0;
}
CUresult cuStreamBeginCapture_v2(void *s, int mode) { return 0; }
CUresult cuStreamEndCapture(void *s, void **g) { *g = (void *) 0x99; return 0; }
CUresult cuGraphInstantiateWithFlags(void **e, void *g, unsigned long long f) { *e = (void *) 0xAA; return 0; }
CUresult cuGraphLaunch(void *e, void *s) { return 0; }
CUresult cuGraphExecDestroy(void *e) { return 0; }
CUresult cuGraphDestroy(void *g) { return 0; }
CUresult cuGetErrorName(CUresult e, const char **name) {
    switch (e) {
        case 2: *name = "CUDA_ERROR_OUT_OF_MEMORY"; return 0;
        case 500: *name = "CUDA_ERROR_NOT_FOUND"; return 0;
        default: return 1;
    }
}

/* test hooks */
int stub_live_allocs(void) { return live_allocs; }
void stub_fail_next_alloc(void) { fail_next_alloc = 1; }
void stub_set_param_count(int n) { param_count = n; }
void stub_last_launch(unsigned *dims, unsigned long long *params) {
    memcpy(dims, launch_dims, sizeof launch_dims);
    memcpy(params, launch_params, sizeof launch_params);
}
