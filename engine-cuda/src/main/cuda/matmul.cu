// Tiled matrix product for prefill: Y[t][r] = sum_c X[t][c] * W[r][c].
// X: [n_tokens][cols] f32; W: [rows][cols] in device layout of `type` (ggml type id);
// Y: [n_tokens][rows] f32. Weights are dequantized into shared memory one 64x32 tile at a time, so
// each weight is read once per 64 tokens.
// Launch: grid (ceil(rows / 64), ceil(n_tokens / 64)), block (256); static shared memory 16.6 KiB.
// Each thread computes a 4 x 4 patch of the 64 x 64 output tile.
#include "common.cuh"

#define MM_BM 64   // rows of W per tile
#define MM_BN 64   // tokens per tile
#define MM_BK 32   // reduction slice

extern "C" __global__ void __launch_bounds__(256) jllm_matmul(
    const uint8_t* __restrict__ W, int type, const float* __restrict__ X, float* __restrict__ Y,
    int rows, int cols, int n_tokens) {
    __shared__ float ws[MM_BK][MM_BM + 1];  // [k][row]
    __shared__ float xs[MM_BK][MM_BN + 1];  // [k][token]
    const int row0 = blockIdx.x * MM_BM, tok0 = blockIdx.y * MM_BN;
    const int tr = (threadIdx.x & 15) * 4, tt = (threadIdx.x >> 4) * 4;
    float acc[4][4] = {};
    for (int k0 = 0; k0 < cols; k0 += MM_BK) {
        for (int i = threadIdx.x; i < MM_BM * MM_BK; i += 256) {
            const int r = i / MM_BK, k = i % MM_BK;
            const int gr = row0 + r, gk = k0 + k;
            ws[k][r] = (gr < rows && gk < cols) ? load_weight(W, type, rows, cols, gr, gk) : 0.f;
        }
        for (int i = threadIdx.x; i < MM_BN * MM_BK; i += 256) {
            const int t = i / MM_BK, k = i % MM_BK;
            const int gt = tok0 + t, gk = k0 + k;
            xs[k][t] = (gt < n_tokens && gk < cols) ? X[(size_t) gt * cols + gk] : 0.f;
        }
        __syncthreads();
#pragma unroll 8
        for (int k = 0; k < MM_BK; k++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) { a[i] = ws[k][tr + i]; b[i] = xs[k][tt + i]; }
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
        }
        __syncthreads();
    }
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const int gt = tok0 + tt + j;
        if (gt >= n_tokens) continue;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const int gr = row0 + tr + i;
            if (gr < rows) Y[(size_t) gt * rows + gr] = acc[i][j];
        }
    }
}
