// RMSNorm: out[r][i] = x[r][i] / sqrt(mean_i(x[r]^2) + eps) * w[i], for rows r in [0, n_rows).
// x, out: [n_rows][dim] f32 (may alias); w: [dim] f32.
// Launch: grid (n_rows), block (256) (any multiple of 32 up to 1024); no dynamic shared memory.
#include "common.cuh"

extern "C" __global__ void __launch_bounds__(1024) jllm_rmsnorm(
    const float* x, const float* __restrict__ w, float* out, int n_rows, int dim, float eps) {
    __shared__ float scratch[32];
    const int r = blockIdx.x;
    if (r >= n_rows) return;
    const float* xr = x + (size_t) r * dim;
    float ss = 0.f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) ss += xr[i] * xr[i];
    ss = block_sum(ss, scratch);
    const float scale = rsqrtf(ss / (float) dim + eps);
    float* o = out + (size_t) r * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) o[i] = xr[i] * scale * w[i];
}
