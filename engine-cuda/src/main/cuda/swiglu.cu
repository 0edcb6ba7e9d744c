// SwiGLU: out[i] = silu(gate[i]) * up[i] = gate[i] / (1 + exp(-gate[i])) * up[i], i in [0, n).
// gate, up, out: [n] f32 (out may alias gate or up); n = n_tokens * hidden_dim for a batch.
// Launch: grid (ceil(n / 256)), block (256).
#include "common.cuh"

extern "C" __global__ void __launch_bounds__(256) jllm_swiglu(
    const float* gate, const float* up, float* out, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float g = gate[i];
    out[i] = g / (1.f + expf(-g)) * up[i];
}
