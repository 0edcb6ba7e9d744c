// Warp-per-row dot products with fused dequantization, one device function per weight type.
// Each returns sum_c W[row][c] * x[c] for the warp's row, reduced so that every lane holds the result.
// Loads: 128-bit (uint4) for weights; x as float4. Preconditions (checked on the host by the Java
// launcher): cols % 32 == 0 for Q8_0/Q4_0, cols % 256 == 0 for Q4_K/Q6_K, x 16-byte aligned.
#pragma once
#include "common.cuh"

// How a row dot reads x, by float4 index: straight from global memory, or from a copy the block staged in
// shared memory. The staged copy is swizzled per weight type (float4 i is stored at i ^ f(i)) so that the
// eight lanes of each shared-memory phase hit eight different bank groups for that type's access pattern;
// read from global memory, the same pattern costs up to 32 L1 wavefronts per instruction (Q4_0's lanes
// read x 128 bytes apart), which bounded those kernels well below the memory bandwidth.
struct XGlobal {
    const float4* p;
    __device__ __forceinline__ float4 operator()(int i) const { return p[i]; }
};
template <int SHIFT_MASK>  // f(i) = (i >> 3) & SHIFT_MASK
struct XStaged {
    const float4* p;
    __device__ __forceinline__ float4 operator()(int i) const { return p[i ^ ((i >> 3) & SHIFT_MASK)]; }
    __device__ __forceinline__ static int at(int i) { return i ^ ((i >> 3) & SHIFT_MASK); }
};
// lane l reads float4 4l + j (Q8_0), 8l + j (Q4_0) in its j-th load of a step
typedef XStaged<3> XStagedQ8;
typedef XStaged<7> XStagedQ4;

__device__ __forceinline__ float dot8_f16(uint4 w, float4 a, float4 b) {
    const __half2* h = (const __half2*) &w;
    float2 f0 = __half22float2(h[0]), f1 = __half22float2(h[1]), f2 = __half22float2(h[2]), f3 = __half22float2(h[3]);
    return f0.x * a.x + f0.y * a.y + f1.x * a.z + f1.y * a.w + f2.x * b.x + f2.y * b.y + f3.x * b.z + f3.y * b.w;
}

__device__ __forceinline__ float dot8_bf16(uint4 w, float4 a, float4 b) {
    return __uint_as_float(w.x << 16) * a.x + __uint_as_float(w.x & 0xffff0000u) * a.y
         + __uint_as_float(w.y << 16) * a.z + __uint_as_float(w.y & 0xffff0000u) * a.w
         + __uint_as_float(w.z << 16) * b.x + __uint_as_float(w.z & 0xffff0000u) * b.y
         + __uint_as_float(w.w << 16) * b.z + __uint_as_float(w.w & 0xffff0000u) * b.w;
}

// F32: lane reads 4 floats per step; scalar tail when cols % 4 != 0.
template <class X>
__device__ __forceinline__ float row_dot_f32x(const uint8_t* W, int rows, int cols, int row, const float* x, X xf) {
    const int lane = threadIdx.x & 31;
    const float* w = (const float*) W + (size_t) row * cols;
    float acc = 0.f;
    if ((cols & 3) == 0) {
#pragma unroll 4
        for (int c = lane * 4; c < cols; c += 128) {
            const float4 a = *(const float4*) (w + c), b = xf(c / 4);
            acc += a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w;
        }
    } else {
        for (int c = lane; c < cols; c += 32) acc += w[c] * x[c];
    }
    return warp_sum(acc);
}

__device__ __forceinline__ float row_dot_f32(const uint8_t* W, int rows, int cols, int row, const float* x) {
    return row_dot_f32x(W, rows, cols, row, x, XGlobal{(const float4*) x});
}

// F16 / BF16: lane reads 8 weights (16 bytes) per step; scalar path when cols % 8 != 0 (x from global then).
template <class X>
__device__ __forceinline__ float row_dot_f16x(const uint8_t* W, int rows, int cols, int row, const float* x, X xf) {
    const int lane = threadIdx.x & 31;
    const uint16_t* w = (const uint16_t*) W + (size_t) row * cols;
    float acc = 0.f;
    if ((cols & 7) == 0) {
#pragma unroll 4
        for (int c = lane * 8; c < cols; c += 256) acc += dot8_f16(*(const uint4*) (w + c), xf(c / 4), xf(c / 4 + 1));
    } else {
        for (int c = lane; c < cols; c += 32) acc += h2f(w[c]) * x[c];
    }
    return warp_sum(acc);
}

template <class X>
__device__ __forceinline__ float row_dot_bf16x(const uint8_t* W, int rows, int cols, int row, const float* x, X xf) {
    const int lane = threadIdx.x & 31;
    const uint16_t* w = (const uint16_t*) W + (size_t) row * cols;
    float acc = 0.f;
    if ((cols & 7) == 0) {
#pragma unroll 4
        for (int c = lane * 8; c < cols; c += 256) acc += dot8_bf16(*(const uint4*) (w + c), xf(c / 4), xf(c / 4 + 1));
    } else {
        for (int c = lane; c < cols; c += 32) acc += bf2f(w[c]) * x[c];
    }
    return warp_sum(acc);
}

__device__ __forceinline__ float row_dot_f16(const uint8_t* W, int rows, int cols, int row, const float* x) {
    return row_dot_f16x(W, rows, cols, row, x, XGlobal{(const float4*) x});
}

__device__ __forceinline__ float row_dot_bf16(const uint8_t* W, int rows, int cols, int row, const float* x) {
    return row_dot_bf16x(W, rows, cols, row, x, XGlobal{(const float4*) x});
}

// Byte k of w as a float, minus a bias: 0x4B0000XX is the float 2^23 + XX exactly, so one byte permute and
// one subtraction replace an integer-to-float conversion (a quarter-rate instruction that bounded these loops).
#define JLLM_MAGIC 8388608.f  // 2^23
__device__ __forceinline__ float byte_f(uint32_t w, int k, float magic_plus_bias) {
    return __int_as_float(__byte_perm(w, 0x4B000000u, 0x7650 | k)) - magic_plus_bias;
}

// sum_k (byte k of w - bias) * x[k]
__device__ __forceinline__ float dot4_bytes(uint32_t w, float4 x, float magic_plus_bias) {
    return byte_f(w, 0, magic_plus_bias) * x.x + byte_f(w, 1, magic_plus_bias) * x.y
         + byte_f(w, 2, magic_plus_bias) * x.z + byte_f(w, 3, magic_plus_bias) * x.w;
}

// Q8_0 (device layout): lane reads 16 int8 weights (half a block) per step; warp covers 512 columns.
// Signed bytes are flipped to b + 128 (xor 0x80) and read with the magic float minus (2^23 + 128).
template <class X>
__device__ __forceinline__ float row_dot_q8_0x(const uint8_t* W, int rows, int cols, int row, X xf) {
    const int lane = threadIdx.x & 31;
    const int8_t* qs = (const int8_t*) W + (size_t) row * cols;
    const uint16_t* d = (const uint16_t*) (W + (size_t) rows * cols) + (size_t) row * (cols / 32);
    float acc = 0.f;
#pragma unroll 4
    for (int c = lane * 16; c < cols; c += 512) {
        const uint4 q = *(const uint4*) (qs + c);
        const int i = c / 4;
        const float s = dot4_bytes(q.x ^ 0x80808080u, xf(i), JLLM_MAGIC + 128.f) + dot4_bytes(q.y ^ 0x80808080u, xf(i + 1), JLLM_MAGIC + 128.f)
                      + dot4_bytes(q.z ^ 0x80808080u, xf(i + 2), JLLM_MAGIC + 128.f) + dot4_bytes(q.w ^ 0x80808080u, xf(i + 3), JLLM_MAGIC + 128.f);
        acc += h2f(d[c / 32]) * s;
    }
    return warp_sum(acc);
}

// Q4_0 (device layout): lane reads one block's 16 bytes (32 weights) per step; warp covers 1024 columns.
// Word j holds weights 4j..4j+3 in its low nibbles and 16+4j.. in its high ones; each is read as a magic
// float minus (2^23 + 8).
template <class X>
__device__ __forceinline__ float row_dot_q4_0x(const uint8_t* W, int rows, int cols, int row, X xf) {
    const int lane = threadIdx.x & 31;
    const int nb = cols / 32;
    const uint8_t* qs = W + (size_t) row * nb * 16;
    const uint16_t* d = (const uint16_t*) (W + (size_t) rows * cols / 2) + (size_t) row * nb;
    float acc = 0.f;
#pragma unroll 4
    for (int blk = lane; blk < nb; blk += 32) {
        const uint4 q = *(const uint4*) (qs + (size_t) blk * 16);
        const uint32_t qw[4] = {q.x, q.y, q.z, q.w};
        const int i = blk * 8;
        float s = 0.f;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            s += dot4_bytes(qw[j] & 0x0F0F0F0Fu, xf(i + j), JLLM_MAGIC + 8.f) + dot4_bytes((qw[j] >> 4) & 0x0F0F0F0Fu, xf(i + 4 + j), JLLM_MAGIC + 8.f);
        }
        acc += h2f(d[blk]) * s;
    }
    return warp_sum(acc);
}

__device__ __forceinline__ float row_dot_q8_0(const uint8_t* W, int rows, int cols, int row, const float* x) {
    return row_dot_q8_0x(W, rows, cols, row, XGlobal{(const float4*) x});
}

__device__ __forceinline__ float row_dot_q4_0(const uint8_t* W, int rows, int cols, int row, const float* x) {
    return row_dot_q4_0x(W, rows, cols, row, XGlobal{(const float4*) x});
}

// Q4_K: 8 lanes per 256-weight super-block, 4 super-blocks per warp step. Lane t (0..7) reads 16 qs
// bytes: chunk t/2 (64 weights), half t%2; low nibbles feed sub-block 2*chunk, high nibbles 2*chunk+1.
template <class X>
__device__ __forceinline__ float row_dot_q4_kx(const uint8_t* W, int rows, int cols, int row, X xf) {
    const int lane = threadIdx.x & 31, t = lane & 7;
    const int nb = cols / 256;
    const uint8_t* base = W + (size_t) row * nb * Q4K_BLOCK_BYTES;
    const int chunk = t >> 1, half = t & 1;
    float acc = 0.f;
#pragma unroll 2
    for (int blk = lane >> 3; blk < nb; blk += 4) {
        const uint8_t* b = base + (size_t) blk * Q4K_BLOCK_BYTES;
        const float d = h2f(*(const uint16_t*) b), dmin = h2f(*(const uint16_t*) (b + 2));
        float sc0, m0, sc1, m1;
        q4k_scale_min(2 * chunk, b + 4, &sc0, &m0);
        q4k_scale_min(2 * chunk + 1, b + 4, &sc1, &m1);
        const uint4 q = *(const uint4*) (b + 16 + chunk * 32 + half * 16);
        const uint8_t* qb = (const uint8_t*) &q;
        const int xl = (blk * 256 + chunk * 64 + half * 16) / 4;  // float4 index: low nibbles; high nibbles 8 further
        float slo = 0.f, shi = 0.f, xlo = 0.f, xhi = 0.f;
#pragma unroll
        for (int i = 0; i < 16; i += 4) {
            const float4 a = xf(xl + i / 4), h = xf(xl + 8 + i / 4);
            slo += (float) (qb[i] & 0xF) * a.x + (float) (qb[i + 1] & 0xF) * a.y + (float) (qb[i + 2] & 0xF) * a.z + (float) (qb[i + 3] & 0xF) * a.w;
            shi += (float) (qb[i] >> 4) * h.x + (float) (qb[i + 1] >> 4) * h.y + (float) (qb[i + 2] >> 4) * h.z + (float) (qb[i + 3] >> 4) * h.w;
            xlo += a.x + a.y + a.z + a.w;
            xhi += h.x + h.y + h.z + h.w;
        }
        acc += d * (sc0 * slo + sc1 * shi) - dmin * (m0 * xlo + m1 * xhi);
    }
    return warp_sum(acc);
}

// Q6_K (device layout): 8 lanes per super-block, 4 super-blocks per warp step. Lane t: half n = t/4,
// l in [(t%4)*8, +8); each l yields the 4 weights l, l+32, l+64, l+96 of that 128-weight half.
template <class X>
__device__ __forceinline__ float row_dot_q6_kx(const uint8_t* W, int rows, int cols, int row, X xf) {
    const int lane = threadIdx.x & 31, t = lane & 7;
    const int nb = cols / 256;
    const uint8_t* base = W + (size_t) row * nb * Q6K_PACKED_BYTES;
    const uint16_t* dd = (const uint16_t*) (W + (size_t) rows * nb * Q6K_PACKED_BYTES) + (size_t) row * nb;
    const int n = t >> 2, l0 = (t & 3) * 8;
    float acc = 0.f;
#pragma unroll 2
    for (int blk = lane >> 3; blk < nb; blk += 4) {
        const uint8_t* b = base + (size_t) blk * Q6K_PACKED_BYTES;
        const uint2 qa = *(const uint2*) (b + n * 64 + l0);        // ql[l]    -> quarters 0 (low) and 2 (high)
        const uint2 qc = *(const uint2*) (b + n * 64 + 32 + l0);   // ql[l+32] -> quarters 1 and 3
        const uint2 qh = *(const uint2*) (b + 128 + n * 32 + l0);
        const int8_t* sc = (const int8_t*) (b + 192) + n * 8 + l0 / 16;
        const uint8_t* pa = (const uint8_t*) &qa;
        const uint8_t* pc = (const uint8_t*) &qc;
        const uint8_t* ph = (const uint8_t*) &qh;
        const int xl = (blk * 256 + n * 128 + l0) / 4;  // float4 index
        float xv[4][8];  // x for quarters 0..3 (offsets 0, 32, 64, 96), 8 values each, loaded as float4
#pragma unroll
        for (int qtr = 0; qtr < 4; qtr++) {
            *(float4*) &xv[qtr][0] = xf(xl + 8 * qtr);
            *(float4*) &xv[qtr][4] = xf(xl + 8 * qtr + 1);
        }
        float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
#pragma unroll
        for (int i = 0; i < 8; i++) {
            const int h = ph[i];
            s0 += (float) (((pa[i] & 0xF) | ((h & 3) << 4)) - 32) * xv[0][i];
            s1 += (float) (((pc[i] & 0xF) | (((h >> 2) & 3) << 4)) - 32) * xv[1][i];
            s2 += (float) (((pa[i] >> 4) | (((h >> 4) & 3) << 4)) - 32) * xv[2][i];
            s3 += (float) (((pc[i] >> 4) | (((h >> 6) & 3) << 4)) - 32) * xv[3][i];
        }
        acc += h2f(dd[blk]) * ((float) sc[0] * s0 + (float) sc[2] * s1 + (float) sc[4] * s2 + (float) sc[6] * s3);
    }
    return warp_sum(acc);
}

__device__ __forceinline__ float row_dot_q4_k(const uint8_t* W, int rows, int cols, int row, const float* x) {
    return row_dot_q4_kx(W, rows, cols, row, XGlobal{(const float4*) x});
}

__device__ __forceinline__ float row_dot_q6_k(const uint8_t* W, int rows, int cols, int row, const float* x) {
    return row_dot_q6_kx(W, rows, cols, row, XGlobal{(const float4*) x});
}

// Kernel body shared by the per-type matvec entry points: block = 256 threads = 8 warps = 8 rows.
// Every matvec kernel takes (W, x, aux, eps, y, rows, cols, mode):
//   mode & JLLM_IN_NORM   the input is rmsnorm(x) * aux (aux: the norm's weights [cols], eps its epsilon)
//   mode & JLLM_IN_GATED  the input is silu(x) * aux   (aux: the up projection [cols]), as jllm_swiglu
//   mode & JLLM_OUT_ADD   y[row] += the product (the residual connection), else y[row] = it
// The input modes need x staged in shared memory (JLLM_DEFINE_MATVEC_STAGED with cols * 4 bytes of dynamic
// shared memory); the host launches them only so, and otherwise runs jllm_rmsnorm / jllm_swiglu first.
#define JLLM_MATVEC_ROWS_PER_BLOCK 8
#define JLLM_IN_NORM 1
#define JLLM_IN_GATED 2
#define JLLM_OUT_ADD 4
#define JLLM_MATVEC_PARAMS                                                                             \
    const uint8_t* __restrict__ W, const float* __restrict__ x, const float* __restrict__ aux, float eps, \
    float* __restrict__ y, int rows, int cols, int mode

__device__ __forceinline__ void matvec_store(float* y, int row, float v, int mode) {
    if ((threadIdx.x & 31) == 0) y[row] = (mode & JLLM_OUT_ADD) ? y[row] + v : v;
}

#define JLLM_DEFINE_MATVEC(NAME, ROW_DOT)                                                              \
    extern "C" __global__ void __launch_bounds__(256) NAME(JLLM_MATVEC_PARAMS) {                       \
        const int row = blockIdx.x * JLLM_MATVEC_ROWS_PER_BLOCK + (threadIdx.x >> 5);                 \
        if (row >= rows) return;                                                                       \
        matvec_store(y, row, ROW_DOT(W, rows, cols, row, x), mode);                                    \
    }

// Stages the block's input in shared memory (swizzled by STAGED), applying the input mode on the way.
template <class STAGED>
__device__ __forceinline__ void stage_input(float4* xs, const float* x, const float* aux, float eps, int cols, int mode) {
    const float4* x4 = (const float4*) x;
    const float4* a4 = (const float4*) aux;
    const int n4 = cols / 4;
    if (mode & JLLM_IN_NORM) {
        __shared__ float scratch[32];
        float ss = 0.f;
        for (int i = threadIdx.x; i < n4; i += blockDim.x) {
            const float4 v = x4[i];
            ss += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
        }
        ss = block_sum(ss, scratch);
        const float scale = rsqrtf(ss / (float) cols + eps);  // as jllm_rmsnorm
        for (int i = threadIdx.x; i < n4; i += blockDim.x) {
            const float4 v = x4[i], g = a4[i];
            xs[STAGED::at(i)] = make_float4(v.x * scale * g.x, v.y * scale * g.y, v.z * scale * g.z, v.w * scale * g.w);
        }
    } else if (mode & JLLM_IN_GATED) {
        for (int i = threadIdx.x; i < n4; i += blockDim.x) {
            const float4 g = x4[i], u = a4[i];
            xs[STAGED::at(i)] = make_float4(g.x / (1.f + expf(-g.x)) * u.x, g.y / (1.f + expf(-g.y)) * u.y,
                                            g.z / (1.f + expf(-g.z)) * u.z, g.w / (1.f + expf(-g.w)) * u.w);
        }
    } else {
        for (int i = threadIdx.x; i < n4; i += blockDim.x) xs[STAGED::at(i)] = x4[i];
    }
    __syncthreads();
}

// The same, with the input first staged in shared memory by the whole block (all 8 rows read the same x)
// when the launch gives the kernel cols * 4 bytes of dynamic shared memory; with none it reads x from
// global memory (plain input only).
#define JLLM_DEFINE_MATVEC_STAGED(NAME, ROW_DOT, ROW_DOT_X, STAGED)                                    \
    extern "C" __global__ void __launch_bounds__(256) NAME(JLLM_MATVEC_PARAMS) {                       \
        extern __shared__ float4 xs[];                                                                 \
        const unsigned smem = dynamic_smem_bytes();                                            \
        const int row = blockIdx.x * JLLM_MATVEC_ROWS_PER_BLOCK + (threadIdx.x >> 5);                 \
        float v;                                                                                       \
        if (smem >= (unsigned) cols * 4u && (cols & 7) == 0) {                                         \
            stage_input<STAGED>(xs, x, aux, eps, cols, mode);                                          \
            if (row >= rows) return;                                                                   \
            v = ROW_DOT_X(W, rows, cols, row, STAGED{xs});                                             \
        } else {                                                                                       \
            if (row >= rows) return;                                                                   \
            v = ROW_DOT(W, rows, cols, row, x);                                                        \
        }                                                                                              \
        matvec_store(y, row, v, mode);                                                                 \
    }
