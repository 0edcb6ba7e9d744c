// Y[t][rows] = W[rows x cols] . X[t][cols] for a few tokens (batched decode, short chunks): the matvec
// kernels' warp-per-row dot products, each warp doing its row for up to 4 tokens in turn (the row's
// second and later reads hit L1/L2, so device memory sees the weights about once per 4 tokens).
// X rows must be 16-byte aligned (cols % 4 == 0 for F32's vector path; always true for the block types).
// Launch: grid (ceil(rows / 8), ceil(n_tokens / 4)), block (256); no shared memory.
//
// Q8_0 and Q4_0 (jllm_matvec_batch_q8_0 / _q4_0): block y covers T = ceil(n_tokens / gridDim.y) tokens (at
// most 8). Given T * cols * 4 bytes of dynamic shared memory, the block stages those tokens' x there
// (swizzled as the one-token kernels do) and each lane dequantizes its 16 weight bytes once for all T
// tokens; without it, as above, one token at a time.
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
JLLM_DEFINE_MATVEC_BATCH(jllm_matvec_batch_q4_k, row_dot_q4_k)
JLLM_DEFINE_MATVEC_BATCH(jllm_matvec_batch_q6_k, row_dot_q6_k)

#define JLLM_BATCH_MAX_STAGED 8

// acc[t] += row . x_t for the T tokens staged at float4 offsets t * n4 (Q8_0: 16 weights per lane step)
template <class X>
__device__ __forceinline__ void rows_dot_tokens_q8_0(const uint8_t* W, int rows, int cols, int row, X xf, int n4, int T,
                                                     float (&acc)[JLLM_BATCH_MAX_STAGED]) {
    const int lane = threadIdx.x & 31;
    const int8_t* qs = (const int8_t*) W + (size_t) row * cols;
    const uint16_t* d = (const uint16_t*) (W + (size_t) rows * cols) + (size_t) row * (cols / 32);
    for (int c = lane * 16; c < cols; c += 512) {
        const uint4 q = *(const uint4*) (qs + c);
        const uint32_t qw[4] = {q.x ^ 0x80808080u, q.y ^ 0x80808080u, q.z ^ 0x80808080u, q.w ^ 0x80808080u};
        const float scale = h2f(d[c / 32]);
#pragma unroll
        for (int t = 0; t < JLLM_BATCH_MAX_STAGED; t++) {
            if (t >= T) break;
            const int i = t * n4 + c / 4;
            const float s = dot4_bytes(qw[0], xf(i), JLLM_MAGIC + 128.f) + dot4_bytes(qw[1], xf(i + 1), JLLM_MAGIC + 128.f)
                          + dot4_bytes(qw[2], xf(i + 2), JLLM_MAGIC + 128.f) + dot4_bytes(qw[3], xf(i + 3), JLLM_MAGIC + 128.f);
            acc[t] += scale * s;
        }
    }
}

// the same for Q4_0 (32 weights, one block, per lane step)
template <class X>
__device__ __forceinline__ void rows_dot_tokens_q4_0(const uint8_t* W, int rows, int cols, int row, X xf, int n4, int T,
                                                     float (&acc)[JLLM_BATCH_MAX_STAGED]) {
    const int lane = threadIdx.x & 31;
    const int nb = cols / 32;
    const uint8_t* qs = W + (size_t) row * nb * 16;
    const uint16_t* d = (const uint16_t*) (W + (size_t) rows * cols / 2) + (size_t) row * nb;
    for (int blk = lane; blk < nb; blk += 32) {
        const uint4 q = *(const uint4*) (qs + (size_t) blk * 16);
        const uint32_t lo[4] = {q.x & 0x0F0F0F0Fu, q.y & 0x0F0F0F0Fu, q.z & 0x0F0F0F0Fu, q.w & 0x0F0F0F0Fu};
        const uint32_t hi[4] = {(q.x >> 4) & 0x0F0F0F0Fu, (q.y >> 4) & 0x0F0F0F0Fu, (q.z >> 4) & 0x0F0F0F0Fu, (q.w >> 4) & 0x0F0F0F0Fu};
        const float scale = h2f(d[blk]);
#pragma unroll
        for (int t = 0; t < JLLM_BATCH_MAX_STAGED; t++) {
            if (t >= T) break;
            const int i = t * n4 + blk * 8;
            float s = 0.f;
#pragma unroll
            for (int j = 0; j < 4; j++) {
                s += dot4_bytes(lo[j], xf(i + j), JLLM_MAGIC + 8.f) + dot4_bytes(hi[j], xf(i + 4 + j), JLLM_MAGIC + 8.f);
            }
            acc[t] += scale * s;
        }
    }
}

#define JLLM_DEFINE_MATVEC_BATCH_STAGED(NAME, ROW_DOT, ROWS_DOT_TOKENS, STAGED)                        \
    extern "C" __global__ void __launch_bounds__(256) NAME(                                            \
        const uint8_t* __restrict__ W, const float* __restrict__ X, float* __restrict__ Y, int rows, int cols, int n_tokens) { \
        extern __shared__ float4 xs[];                                                                 \
        const unsigned smem = dynamic_smem_bytes();                                            \
        const int per = (n_tokens + gridDim.y - 1) / gridDim.y;                                        \
        const int t0 = blockIdx.y * per, t1 = min(t0 + per, n_tokens), T = t1 - t0;                    \
        const int row = blockIdx.x * JLLM_MATVEC_ROWS_PER_BLOCK + (threadIdx.x >> 5);                 \
        if (T <= 0) return;                                                                            \
        if (T <= JLLM_BATCH_MAX_STAGED && smem >= (unsigned) (T * cols) * 4u && (cols & 7) == 0) {    \
            const int n4 = cols / 4;                                                                   \
            stage_input<STAGED>(xs, X + (size_t) t0 * cols, nullptr, 0.f, T * cols, 0); /* T rows, one run */ \
            if (row >= rows) return;                                                                   \
            float acc[JLLM_BATCH_MAX_STAGED] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};               \
            ROWS_DOT_TOKENS(W, rows, cols, row, STAGED{xs}, n4, T, acc);                               \
            _Pragma("unroll")                                                                          \
            for (int t = 0; t < JLLM_BATCH_MAX_STAGED; t++) {                                          \
                if (t >= T) break;                                                                     \
                const float v = warp_sum(acc[t]);                                                      \
                if ((threadIdx.x & 31) == 0) Y[(size_t) (t0 + t) * rows + row] = v;                    \
            }                                                                                          \
        } else {                                                                                       \
            if (row >= rows) return;                                                                   \
            for (int t = t0; t < t1; t++) {                                                            \
                const float v = ROW_DOT(W, rows, cols, row, X + (size_t) t * cols);                    \
                if ((threadIdx.x & 31) == 0) Y[(size_t) t * rows + row] = v;                           \
            }                                                                                          \
        }                                                                                              \
    }

JLLM_DEFINE_MATVEC_BATCH_STAGED(jllm_matvec_batch_q8_0, row_dot_q8_0, rows_dot_tokens_q8_0, XStagedQ8)
JLLM_DEFINE_MATVEC_BATCH_STAGED(jllm_matvec_batch_q4_0, row_dot_q4_0, rows_dot_tokens_q4_0, XStagedQ4)
