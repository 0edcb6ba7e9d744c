// RMSNorm: out[r][i] = x[r][i] / sqrt(mean_i(x[r]^2) + eps) * w[i], for rows r in [0, n_rows).
// x, out: [n_rows][dim] f32 (may alias); w: [dim] f32.
// Launch: grid (n_rows), block (1024) (any multiple of 32 up to 1024); no dynamic shared memory.
// With dim % 4 == 0 and 16-byte aligned rows, float4 loads; else one float per thread and step.
#include "common.cuh"

extern "C" __global__ void __launch_bounds__(1024) jllm_rmsnorm(
    const float* x, const float* __restrict__ w, float* out, int n_rows, int dim, float eps) {
    __shared__ float scratch[32];
    const int r = blockIdx.x;
    if (r >= n_rows) return;
    const float* xr = x + (size_t) r * dim;
    float* o = out + (size_t) r * dim;
    float ss = 0.f;
    if ((dim & 3) == 0 && (((uintptr_t) xr | (uintptr_t) w | (uintptr_t) o) & 15) == 0) {  // float4 loads; a 4096-wide row is one load per thread of a 1024-thread block
        const float4* x4 = (const float4*) xr;
        for (int i = threadIdx.x; i < dim / 4; i += blockDim.x) {
            const float4 v = x4[i];
            ss += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
        }
        ss = block_sum(ss, scratch);
        const float scale = rsqrtf(ss / (float) dim + eps);
        for (int i = threadIdx.x; i < dim / 4; i += blockDim.x) {
            const float4 v = x4[i], g = ((const float4*) w)[i];
            ((float4*) o)[i] = make_float4(v.x * scale * g.x, v.y * scale * g.y, v.z * scale * g.z, v.w * scale * g.w);
        }
        return;
    }
    for (int i = threadIdx.x; i < dim; i += blockDim.x) ss += xr[i] * xr[i];
    ss = block_sum(ss, scratch);
    const float scale = rsqrtf(ss / (float) dim + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x) o[i] = xr[i] * scale * w[i];
}
