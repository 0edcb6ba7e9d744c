// Matrices that read one input, in one launch (a decode token's wq/wk/wv, or its w1/w3): fewer launches per
// layer, and small matrices (wk, wv) share one grid instead of each filling too few multiprocessors.
//   mode 0 (concatenated): y_k = W_k . x for k = 0, 1, 2, their rows laid end to end over the grid
//                          (rows2 may be 0; warps past the last row return).
//   mode 1 (SwiGLU pair):  y0 = silu(W0 . x) * (W1 . x), rows0 == rows1, rows2 == 0: warp r computes row r of
//                          both, so the gate needs no launch of its own (as jllm_swiglu: g / (1 + e^-g) * u).
// W_k: [rows_k x cols] in device layout, all of one type; x: [cols]; y_k: [rows_k].
// Launch: grid (ceil((rows0 + rows1 + rows2) / 8)) in mode 0, (ceil(rows0 / 8)) in mode 1; block (256);
// dynamic shared memory cols * 4 bytes to stage x (Q8_0, Q4_0; see matvec.cuh), 0 to read x from global memory.
#include "matvec.cuh"

#define JLLM_MULTI_SWIGLU 1

// row dots in one shape for every type: (W, rows, cols, row, x, x accessor)
template <class X> __device__ __forceinline__ float mdot_f32(const uint8_t* W, int r, int c, int row, const float* x, X xf) { return row_dot_f32x(W, r, c, row, x, xf); }
template <class X> __device__ __forceinline__ float mdot_f16(const uint8_t* W, int r, int c, int row, const float* x, X xf) { return row_dot_f16x(W, r, c, row, x, xf); }
template <class X> __device__ __forceinline__ float mdot_bf16(const uint8_t* W, int r, int c, int row, const float* x, X xf) { return row_dot_bf16x(W, r, c, row, x, xf); }
template <class X> __device__ __forceinline__ float mdot_q8_0(const uint8_t* W, int r, int c, int row, const float*, X xf) { return row_dot_q8_0x(W, r, c, row, xf); }
template <class X> __device__ __forceinline__ float mdot_q4_0(const uint8_t* W, int r, int c, int row, const float*, X xf) { return row_dot_q4_0x(W, r, c, row, xf); }
template <class X> __device__ __forceinline__ float mdot_q4_k(const uint8_t* W, int r, int c, int row, const float*, X xf) { return row_dot_q4_kx(W, r, c, row, xf); }
template <class X> __device__ __forceinline__ float mdot_q6_k(const uint8_t* W, int r, int c, int row, const float*, X xf) { return row_dot_q6_kx(W, r, c, row, xf); }

template <class X, float (*DOT)(const uint8_t*, int, int, int, const float*, X)>
__device__ __forceinline__ void matvec_multi_rows(const uint8_t* W0, const uint8_t* W1, const uint8_t* W2, const float* x,
                                                  X xf, float* y0, float* y1, float* y2, int rows0, int rows1, int rows2,
                                                  int cols, int mode) {
    int row = blockIdx.x * JLLM_MATVEC_ROWS_PER_BLOCK + (threadIdx.x >> 5);
    const bool lane0 = (threadIdx.x & 31) == 0;
    if (mode == JLLM_MULTI_SWIGLU) {
        if (row >= rows0) return;
        const float g = DOT(W0, rows0, cols, row, x, xf), u = DOT(W1, rows1, cols, row, x, xf);
        if (lane0) y0[row] = g / (1.f + expf(-g)) * u;
        return;
    }
    const uint8_t* W;
    float* y;
    int rows;
    if (row < rows0) { W = W0; y = y0; rows = rows0; }
    else if ((row -= rows0) < rows1) { W = W1; y = y1; rows = rows1; }
    else if ((row -= rows1) < rows2) { W = W2; y = y2; rows = rows2; }
    else return;
    const float v = DOT(W, rows, cols, row, x, xf);
    if (lane0) y[row] = v;
}

#define JLLM_DEFINE_MATVEC_MULTI(NAME, DOT, STAGED)                                                    \
    extern "C" __global__ void __launch_bounds__(256) NAME(                                            \
        const uint8_t* __restrict__ W0, const uint8_t* __restrict__ W1, const uint8_t* __restrict__ W2, \
        const float* __restrict__ x, float* __restrict__ y0, float* __restrict__ y1, float* __restrict__ y2, \
        int rows0, int rows1, int rows2, int cols, int mode) {                                          \
        extern __shared__ float4 xs[];                                                                 \
        const unsigned smem = dynamic_smem_bytes();                                            \
        if (smem >= (unsigned) cols * 4u && (cols & 7) == 0) {                                         \
            stage_input<STAGED>(xs, x, nullptr, 0.f, cols, 0);                                         \
            matvec_multi_rows<STAGED, DOT<STAGED>>(W0, W1, W2, x, STAGED{xs}, y0, y1, y2, rows0, rows1, rows2, cols, mode); \
        } else {                                                                                       \
            matvec_multi_rows<XGlobal, DOT<XGlobal>>(W0, W1, W2, x, XGlobal{(const float4*) x}, y0, y1, y2, \
                                                     rows0, rows1, rows2, cols, mode);                 \
        }                                                                                              \
    }

// the staged accessor of the types that do not stage (F32, F16, BF16, K-quants) is never used: the host
// launches them with no shared memory
JLLM_DEFINE_MATVEC_MULTI(jllm_matvec_multi_f32, mdot_f32, XStagedQ8)
JLLM_DEFINE_MATVEC_MULTI(jllm_matvec_multi_f16, mdot_f16, XStagedQ8)
JLLM_DEFINE_MATVEC_MULTI(jllm_matvec_multi_bf16, mdot_bf16, XStagedQ8)
JLLM_DEFINE_MATVEC_MULTI(jllm_matvec_multi_q8_0, mdot_q8_0, XStagedQ8)
JLLM_DEFINE_MATVEC_MULTI(jllm_matvec_multi_q4_0, mdot_q4_0, XStagedQ4)
JLLM_DEFINE_MATVEC_MULTI(jllm_matvec_multi_q4_k, mdot_q4_k, XStagedQ8)
JLLM_DEFINE_MATVEC_MULTI(jllm_matvec_multi_q6_k, mdot_q6_k, XStagedQ8)
