// Y[t][rows] = W[rows x cols] . X[t][cols] for a few tokens (batched decode, short chunks): the matvec
// kernels' warp-per-row dot products, each warp doing its row for up to 4 tokens in turn (the row's
// second and later reads hit L1/L2, so device memory sees the weights about once per 4 tokens).
// X rows must be 16-byte aligned (cols % 4 == 0 for F32's vector path; always true for the block types).
// Launch: grid (ceil(rows / 8), ceil(n_tokens / 4)), block (256); no shared memory.
#include "matvec.cuh"

#define JLLM_BATCH_TOKENS 4
#define JLLM_DEFINE_MATVEC_BATCH(NAME, ROW_DOT)                                                        \
    extern "C" __global__ void __launch_bounds__(256) NAME(                                            \
        const uint8_t* __restrict__ W, const float* __restrict__ X, float* __restrict__ Y, int rows, int cols, int n_tokens) { \
        const int row = blockIdx.x * JLLM_MATVEC_ROWS_PER_BLOCK + (threadIdx.x >> 5);                 \
        if (row >= rows) return;                                                                       \
        const int t0 = blockIdx.y * JLLM_BATCH_TOKENS, t1 = min(t0 + JLLM_BATCH_TOKENS, n_tokens);     \
        for (int t = t0; t < t1; t++) {                                                                \
            const float v = ROW_DOT(W, rows, cols, row, X + (size_t) t * cols);                        \
            if ((threadIdx.x & 31) == 0) Y[(size_t) t * rows + row] = v;                               \
        }                                                                                              \
    }

JLLM_DEFINE_MATVEC_BATCH(jllm_matvec_batch_f32, row_dot_f32)
JLLM_DEFINE_MATVEC_BATCH(jllm_matvec_batch_f16, row_dot_f16)
JLLM_DEFINE_MATVEC_BATCH(jllm_matvec_batch_bf16, row_dot_bf16)
JLLM_DEFINE_MATVEC_BATCH(jllm_matvec_batch_q8_0, row_dot_q8_0)
JLLM_DEFINE_MATVEC_BATCH(jllm_matvec_batch_q4_0, row_dot_q4_0)
JLLM_DEFINE_MATVEC_BATCH(jllm_matvec_batch_q4_k, row_dot_q4_k)
JLLM_DEFINE_MATVEC_BATCH(jllm_matvec_batch_q6_k, row_dot_q6_k)
