// Expert matrix-vector products that read the chosen expert ids from device memory (no host round trip,
// so a decode step with MoE layers can be captured in a CUDA graph).
// W: [n_experts][rows][cols], each expert's matrix in device layout, expert_bytes apart;
// expert_ids: [n_slots] int32 (the routed experts of one token); x: [n_slots][cols] with x_stride
// floats between slots (0 = every slot reads the same x, as for w1/w3); y: [n_slots][rows].
// Launch: grid (ceil(rows / 8), n_slots), block (256): one warp per output row, as jllm_matvec_*.
#include "matvec.cuh"

#define JLLM_DEFINE_MOE_MATVEC(NAME, ROW_DOT)                                                          \
    extern "C" __global__ void __launch_bounds__(256) NAME(                                            \
        const uint8_t* __restrict__ W, long long expert_bytes, const int* __restrict__ expert_ids,     \
        const float* __restrict__ x, int x_stride, float* __restrict__ y, int rows, int cols) {        \
        const int slot = blockIdx.y;                                                                   \
        const int row = blockIdx.x * JLLM_MATVEC_ROWS_PER_BLOCK + (threadIdx.x >> 5);                 \
        if (row >= rows) return;                                                                       \
        const uint8_t* We = W + (size_t) expert_ids[slot] * (size_t) expert_bytes;                     \
        const float v = ROW_DOT(We, rows, cols, row, x + (size_t) slot * x_stride);                    \
        if ((threadIdx.x & 31) == 0) y[(size_t) slot * rows + row] = v;                                \
    }

JLLM_DEFINE_MOE_MATVEC(jllm_moe_matvec_f32, row_dot_f32)
JLLM_DEFINE_MOE_MATVEC(jllm_moe_matvec_f16, row_dot_f16)
JLLM_DEFINE_MOE_MATVEC(jllm_moe_matvec_bf16, row_dot_bf16)
JLLM_DEFINE_MOE_MATVEC(jllm_moe_matvec_q8_0, row_dot_q8_0)
JLLM_DEFINE_MOE_MATVEC(jllm_moe_matvec_q4_0, row_dot_q4_0)
JLLM_DEFINE_MOE_MATVEC(jllm_moe_matvec_q4_k, row_dot_q4_k)
JLLM_DEFINE_MOE_MATVEC(jllm_moe_matvec_q6_k, row_dot_q6_k)

// Weighted sum of the experts' outputs into the residual stream: x[i] += sum_j gate_weights[j] * y[j][i].
// y: [n_slots][dim]; gate_weights: [n_slots]; x: [dim].
// Launch: grid (ceil(dim / 256)), block (256).
extern "C" __global__ void __launch_bounds__(256) jllm_moe_combine(
    const float* __restrict__ y, const float* __restrict__ gate_weights, float* __restrict__ x,
    int n_slots, int dim) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= dim) return;
    float acc = 0.f;
    for (int j = 0; j < n_slots; j++) acc += gate_weights[j] * y[(size_t) j * dim + i];
    x[i] += acc;
}
