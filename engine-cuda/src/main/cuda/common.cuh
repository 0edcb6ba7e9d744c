// Shared device helpers for every jllm kernel: warp reductions and ggml block layouts.
//
// Weight layouts on the device ("device layout"): GGUF bytes, except that the types whose ggml blocks
// are not 16-byte multiples are split at upload into a quant region followed by a scale region, so that
// every warp can use 128-bit loads (see dev.jllm.cuda.kernels.DeviceLayout for the Java repacker):
//   F32, F16, BF16 : row-major [rows][cols]
//   Q8_0  : qs [rows][cols] int8            then d [rows][cols/32] f16
//   Q4_0  : qs [rows][cols/32][16] nibbles  then d [rows][cols/32] f16   (byte j: weight j low, j+16 high)
//   Q4_K  : ggml blocks unchanged [rows][cols/256] x 144 bytes (already 16-byte aligned)
//   Q6_K  : [rows][cols/256] x 208 bytes (ql, qh, scales) then d [rows][cols/256] f16
#pragma once
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <stdint.h>

#define JLLM_WARP 32

// ggml_type ids (GGUF numbering), used where one kernel serves several types.
#define JLLM_T_F32 0
#define JLLM_T_F16 1
#define JLLM_T_Q4_0 2
#define JLLM_T_Q8_0 8
#define JLLM_T_Q4_K 12
#define JLLM_T_Q6_K 14
#define JLLM_T_BF16 30

#define Q4K_BLOCK_BYTES 144
#define Q6K_PACKED_BYTES 208

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over a whole block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ __forceinline__ float block_sum(float v, float* scratch /* [32] */) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < nwarps ? scratch[lane] : 0.f;
    return warp_sum(v);
}

__device__ __forceinline__ float block_max(float v, float* scratch /* [32] */) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < nwarps ? scratch[lane] : -INFINITY;
    return warp_max(v);
}

__device__ __forceinline__ float h2f(uint16_t h) { return __half2float(__ushort_as_half(h)); }
__device__ __forceinline__ float bf2f(uint16_t b) { return __uint_as_float(((uint32_t) b) << 16); }

// Q4_K: 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes (ggml get_scale_min_k4).
__device__ __forceinline__ void q4k_scale_min(int j, const uint8_t* q, float* sc, float* m) {
    if (j < 4) {
        *sc = (float) (q[j] & 63);
        *m = (float) (q[j + 4] & 63);
    } else {
        *sc = (float) ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (float) ((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// One weight W[row][col] in device layout, dequantized (used by gathers and the tiled matmul).
__device__ __forceinline__ float load_weight(const uint8_t* W, int type, int rows, int cols, int row, int col) {
    const size_t r = (size_t) row;
    switch (type) {
        case JLLM_T_F32: return ((const float*) W)[r * cols + col];
        case JLLM_T_F16: return h2f(((const uint16_t*) W)[r * cols + col]);
        case JLLM_T_BF16: return bf2f(((const uint16_t*) W)[r * cols + col]);
        case JLLM_T_Q8_0: {
            const int8_t* qs = (const int8_t*) W;
            const uint16_t* d = (const uint16_t*) (W + (size_t) rows * cols);
            return h2f(d[r * (cols / 32) + col / 32]) * (float) qs[r * cols + col];
        }
        case JLLM_T_Q4_0: {
            const uint8_t* qs = W;
            const uint16_t* d = (const uint16_t*) (W + (size_t) rows * cols / 2);
            const size_t b = r * (cols / 32) + col / 32;
            const int j = col & 31;
            const uint8_t byte = qs[b * 16 + (j & 15)];
            const int q = j < 16 ? (byte & 0xF) : (byte >> 4);
            return h2f(d[b]) * (float) (q - 8);
        }
        case JLLM_T_Q4_K: {
            const uint8_t* blk = W + (r * (cols / 256) + col / 256) * Q4K_BLOCK_BYTES;
            const float d = h2f(*(const uint16_t*) blk), dmin = h2f(*(const uint16_t*) (blk + 2));
            const int i = col & 255, chunk = i / 64, hi = (i / 32) & 1, l = i & 31;
            float sc, m;
            q4k_scale_min(chunk * 2 + hi, blk + 4, &sc, &m);
            const uint8_t byte = blk[16 + chunk * 32 + l];
            const int q = hi ? (byte >> 4) : (byte & 0xF);
            return d * sc * (float) q - dmin * m;
        }
        case JLLM_T_Q6_K: {
            const size_t b = r * (cols / 256) + col / 256;
            const uint8_t* blk = W + b * Q6K_PACKED_BYTES;
            const uint16_t* dd = (const uint16_t*) (W + (size_t) rows * (cols / 256) * Q6K_PACKED_BYTES);
            const uint8_t* ql = blk;
            const uint8_t* qh = blk + 128;
            const int8_t* sc = (const int8_t*) (blk + 192);
            const int i = col & 255, n = i / 128, j = i & 127, quarter = j / 32, l = j & 31;
            const uint8_t lo = ql[n * 64 + (quarter & 1) * 32 + l];
            const int low4 = quarter < 2 ? (lo & 0xF) : (lo >> 4);
            const int high2 = (qh[n * 32 + l] >> (2 * quarter)) & 3;
            const int q = (low4 | (high2 << 4)) - 32;
            return h2f(dd[b]) * (float) sc[n * 8 + l / 16 + 2 * quarter] * (float) q;
        }
        default: return __int_as_float(0x7fc00000);  // NaN: an unsupported type poisons the output
    }
}

// The dynamic shared memory this launch was given (kernels that stage inputs take 0 as "read global memory").
__device__ __forceinline__ unsigned dynamic_smem_bytes() {
    unsigned n;
    asm("mov.u32 %0, %%dynamic_smem_size;" : "=r"(n));
    return n;
}
