// Residual connection: x[i] += delta[i], i in [0, n).  x, delta: [n] f32.
// Launch: grid (ceil(n / 256)), block (256).
#include "common.cuh"

extern "C" __global__ void __launch_bounds__(256) jllm_residual_add(
    float* __restrict__ x, const float* __restrict__ delta, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += delta[i];
}
