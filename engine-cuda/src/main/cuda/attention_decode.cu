// Decode attention (one new token per sequence), GQA, split-K flash-decoding over the cached sequence.
// Sequence s is at position pos = positions[s]; it attends to the n = min(pos + 1, span) latest positions
// p in (pos - n, pos], read from cache slot p mod W (rolling buffer); span = min(W, sliding window).
// Head h reads kv head h / (n_heads / n_kv_heads).
//
// jllm_attention_decode: block (split j, head h, sequence s) covers positions [pos - n + 1 + j*chunk, +chunk)
//   and writes its unnormalised output o, running max m and sum l to
//   part_o [n_seqs][n_heads][n_splits][head_dim], part_ml [n_seqs][n_heads][n_splits][2]. The last block of
//   (s, h) to finish (a ticket from counters[s][h], which it then sets back to 0) combines the splits:
//   out[s][h][:] = sum_j e^(m_j - M) o_j / sum_j e^(m_j - M) l_j, in split order (so the result does not
//   depend on which block came last). counters: [n_seqs][n_heads] int32, zero before the first launch.
//   Launch: grid (n_splits, n_heads, n_seqs), block (128), dynamic shared memory (head_dim rounded up to a
//   multiple of 4, + chunk) * 4 bytes (the padding keeps vectorised reads of q clear of the scores);
//   n_splits = ceil(span / chunk) (splits past the end write m = -inf).
//   Scores: with head_dim % 16 == 0, four threads per key, each a quarter of the dims as float4s, summed by
//   shuffles; else one thread per key. Values: with head_dim % 4 == 0, each thread sums a float4 column over
//   every (128 / (head_dim / 4))-th key, so each key's row is one coalesced read; else one thread per dim.
// Shapes: q, out [n_seqs][n_heads][head_dim]; caches [n_seqs][W][n_kv_heads][head_dim] f32 (slot-major).
#include "common.cuh"

// out[s][h] from the n_splits partial results (written by other blocks: read through L2, not L1)
__device__ void attention_decode_combine(const float* part_o, const float* part_ml, float* out, size_t base, int head_dim,
                                         int n_splits) {
    float M = -INFINITY;
    for (int j = 0; j < n_splits; j++) M = fmaxf(M, __ldcg(part_ml + (base + j) * 2));
    float L = 0.f;
    for (int j = 0; j < n_splits; j++) {
        const float mj = __ldcg(part_ml + (base + j) * 2);
        if (mj != -INFINITY) L += expf(mj - M) * __ldcg(part_ml + (base + j) * 2 + 1);
    }
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float acc = 0.f;
        for (int j = 0; j < n_splits; j++) {
            const float mj = __ldcg(part_ml + (base + j) * 2);
            if (mj != -INFINITY) acc += expf(mj - M) * __ldcg(part_o + (base + j) * head_dim + d);
        }
        out[d] = acc / L;
    }
}

// One split's scores, softmax statistics and weighted values (see the top of the file).
__device__ void attention_decode_split(const float* q, const float* k_cache, const float* v_cache, float* part_ml, float* o,
                                       float* qs, float* p, float* scratch, int s, int h, int g, int first, int count,
                                       size_t part, int n_heads, int n_kv_heads, int head_dim, int window, float scale) {
    const float* qh = q + ((size_t) s * n_heads + h) * head_dim;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) qs[d] = qh[d] * scale;
    __syncthreads();
    const size_t row = (size_t) n_kv_heads * head_dim;  // floats per slot
    const float* kc = k_cache + (size_t) s * window * row + (size_t) g * head_dim;
    const float* vc = v_cache + (size_t) s * window * row + (size_t) g * head_dim;
    const bool vec = (head_dim & 3) == 0;
    if ((head_dim & 15) == 0) {
        // scores: four threads per key (thread 4i + t: dims [t * head_dim / 4, +head_dim / 4) as float4s), summed
        // by two shuffles; every thread runs the same rounds so the shuffles always find their partners
        const int t = threadIdx.x & 3, quarter = head_dim >> 2;
        const float* qq = qs + t * quarter;
        for (int i0 = 0; i0 < count; i0 += blockDim.x >> 2) {
            const int i = i0 + (threadIdx.x >> 2);
            float acc = 0.f;
            if (i < count) {
                const float* kr = kc + (size_t) ((first + i) % window) * row + t * quarter;
#pragma unroll 4
                for (int d = 0; d < quarter; d += 4) {
                    const float4 kv = *(const float4*) (kr + d);
                    acc += qq[d] * kv.x + qq[d + 1] * kv.y + qq[d + 2] * kv.z + qq[d + 3] * kv.w;
                }
            }
            acc += __shfl_xor_sync(0xffffffffu, acc, 1);
            acc += __shfl_xor_sync(0xffffffffu, acc, 2);
            if (t == 0 && i < count) p[i] = acc;
        }
    } else for (int i = threadIdx.x; i < count; i += blockDim.x) {  // scores: one thread per key
        const float* kr = kc + (size_t) ((first + i) % window) * row;
        float acc = 0.f;
        if (vec) {
            for (int d = 0; d < head_dim; d += 4) {
                const float4 kv = *(const float4*) (kr + d);
                acc += qs[d] * kv.x + qs[d + 1] * kv.y + qs[d + 2] * kv.z + qs[d + 3] * kv.w;
            }
        } else {
            for (int d = 0; d < head_dim; d++) acc += qs[d] * kr[d];
        }
        p[i] = acc;
    }
    __syncthreads();
    float m = -INFINITY;
    for (int i = threadIdx.x; i < count; i += blockDim.x) m = fmaxf(m, p[i]);
    m = block_max(m, scratch);
    float l = 0.f;
    for (int i = threadIdx.x; i < count; i += blockDim.x) {
        const float e = expf(p[i] - m);
        p[i] = e;
        l += e;
    }
    l = block_sum(l, scratch);  // block_sum's barriers also publish p[]
    if (vec && head_dim <= 4 * (int) blockDim.x) {
        // o = sum_i p[i] v_i: thread t owns float4 column t % (head_dim / 4) for the keys i = t / (head_dim / 4)
        // (mod the number of such groups); each key's row is one coalesced read; groups are summed in shared memory
        __shared__ float4 red[128];
        const int d4 = head_dim >> 2, groups = blockDim.x / d4, c = threadIdx.x % d4, grp = threadIdx.x / d4;
        float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
        if (grp < groups) {
#pragma unroll 4
            for (int i = grp; i < count; i += groups) {
                const float4 vv = *(const float4*) (vc + (size_t) ((first + i) % window) * row + 4 * c);
                const float pi = p[i];
                acc.x += pi * vv.x; acc.y += pi * vv.y; acc.z += pi * vv.z; acc.w += pi * vv.w;
            }
            red[threadIdx.x] = acc;
        }
        __syncthreads();
        if (threadIdx.x < d4) {
            float4 sum = red[threadIdx.x];
            for (int j = 1; j < groups; j++) {
                const float4 r = red[j * d4 + threadIdx.x];
                sum.x += r.x; sum.y += r.y; sum.z += r.z; sum.w += r.w;
            }
            *(float4*) (o + 4 * threadIdx.x) = sum;
        }
    } else {
        for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
            float acc = 0.f;
            for (int i = 0; i < count; i++) acc += p[i] * vc[(size_t) ((first + i) % window) * row + d];
            o[d] = acc;
        }
    }
    if (threadIdx.x == 0) { part_ml[part * 2] = m; part_ml[part * 2 + 1] = l; }
}

extern "C" __global__ void __launch_bounds__(128) jllm_attention_decode(
    const float* __restrict__ q, const float* __restrict__ k_cache, const float* __restrict__ v_cache,
    const int* __restrict__ positions, float* __restrict__ part_o, float* __restrict__ part_ml,
    int* __restrict__ counters, float* __restrict__ out,
    int n_heads, int n_kv_heads, int head_dim, int window, int span, int chunk, int n_splits, float scale) {
    extern __shared__ float smem[];
    float* qs = smem;                          // [head_dim], padded to a multiple of 4 floats
    float* p = smem + ((head_dim + 3) & ~3);   // [chunk] scores, then probabilities
    __shared__ float scratch[32];
    const int split = blockIdx.x, h = blockIdx.y, s = blockIdx.z;
    const int g = h / (n_heads / n_kv_heads);
    const int pos = positions[s];
    const int n = min(pos + 1, span);
    const int first = pos - n + 1 + split * chunk;          // first position of this split
    const int count = max(0, min(chunk, pos + 1 - first));  // positions in this split
    const size_t part = ((size_t) s * n_heads + h) * n_splits + split;
    float* o = part_o + part * head_dim;
    if (count == 0) {
        for (int d = threadIdx.x; d < head_dim; d += blockDim.x) o[d] = 0.f;
        if (threadIdx.x == 0) { part_ml[part * 2] = -INFINITY; part_ml[part * 2 + 1] = 0.f; }
    } else {
        attention_decode_split(q, k_cache, v_cache, part_ml, o, qs, p, scratch, s, h, g, first, count, part, n_heads,
                               n_kv_heads, head_dim, window, scale);
    }
    // the last of the (s, h) blocks to get here combines them
    __shared__ bool last;
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) {
        const int ticket = atomicAdd(counters + (size_t) s * n_heads + h, 1);
        last = ticket == n_splits - 1;
        if (last) counters[(size_t) s * n_heads + h] = 0;  // ready for the next launch (and graph replay)
    }
    __syncthreads();
    if (!last) return;
    __threadfence();
    attention_decode_combine(part_o, part_ml, out + ((size_t) s * n_heads + h) * head_dim,
                             ((size_t) s * n_heads + h) * n_splits, head_dim, n_splits);
}
