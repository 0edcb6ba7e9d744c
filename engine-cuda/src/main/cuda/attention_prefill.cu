// Prefill attention: many query tokens at once, tiled, with an online (streaming) softmax.
// Token t (sequence seq_slots[t], position positions[t], already written to the cache by jllm_rope_kv)
// attends to the positions p of its own sequence with pos - span < p <= pos: causal, sliding window
// (span = min(W, window)), and block-diagonal when several sequences are packed in one batch.
// Keys come from the rolling cache (slot p mod W), so a batch may continue a cached prefix; the caller
// keeps, per sequence, (last position in the batch - first position in the batch) + span <= W.
// GQA: head h reads kv head h / (n_heads / n_kv_heads).
// Shapes: q, out [n_tokens][n_heads][head_dim]; caches [n_seqs][W][n_kv_heads][head_dim] f32 (slot-major);
//         positions, seq_slots [n_tokens] int32. head_dim <= 256.
// Launch: grid (ceil(n_tokens / 16), n_heads), block (256) = 16 queries x 16 lanes;
//         dynamic shared memory (48 * head_dim + 16) * 4 bytes (just over 48 KiB at head_dim 256: the launcher
//         raises the function's limit).
#include "common.cuh"

#define PF_BQ 16
#define PF_BK 16
#define PF_MAX_D 16  // accumulators per lane: head_dim / 16

extern "C" __global__ void __launch_bounds__(256) jllm_attention_prefill(
    const float* __restrict__ q, const float* __restrict__ k_cache, const float* __restrict__ v_cache,
    const int* __restrict__ positions, const int* __restrict__ seq_slots, float* __restrict__ out,
    int n_tokens, int n_heads, int n_kv_heads, int head_dim, int window, int span, float scale) {
    extern __shared__ float smem[];
    const int ks_stride = head_dim + 1;        // padded: the 16 keys of a score step fall in different banks
    float* Qs = smem;                          // [PF_BQ][head_dim]
    float* Ks = Qs + PF_BQ * head_dim;         // [PF_BK][head_dim + 1]
    float* Vs = Ks + PF_BK * ks_stride;        // [PF_BK][head_dim]
    __shared__ int q_pos[PF_BQ], q_seq[PF_BQ];
    __shared__ int todo_seq, lo_pos, hi_pos;
    const int t0 = blockIdx.x * PF_BQ, h = blockIdx.y;
    const int g = h / (n_heads / n_kv_heads);
    const int qi = threadIdx.x >> 4, sub = threadIdx.x & 15;  // query of the tile, lane in its 16-lane segment
    const int t = t0 + qi;
    const bool has_q = t < n_tokens;
    if (sub == 0) {
        q_pos[qi] = has_q ? positions[t] : -1;
        q_seq[qi] = has_q ? seq_slots[t] : -1;
    }
    for (int i = threadIdx.x; i < PF_BQ * head_dim; i += blockDim.x) {
        const int tq = t0 + i / head_dim, d = i % head_dim;
        Qs[i] = tq < n_tokens ? q[((size_t) tq * n_heads + h) * head_dim + d] * scale : 0.f;
    }
    float o[PF_MAX_D];
#pragma unroll
    for (int j = 0; j < PF_MAX_D; j++) o[j] = 0.f;
    float m = -INFINITY, l = 0.f;
    unsigned done = 0;  // bit i: query i's sequence already processed
    __syncthreads();
    for (;;) {
        // pick the next sequence present in the tile and its key range
        if (threadIdx.x == 0) {
            todo_seq = -1;
            for (int i = 0; i < PF_BQ; i++) {
                if (q_seq[i] < 0 || (done >> i & 1)) continue;
                if (todo_seq < 0) { todo_seq = q_seq[i]; lo_pos = INT_MAX; hi_pos = -1; }
                if (q_seq[i] == todo_seq) {
                    lo_pos = min(lo_pos, max(0, q_pos[i] - span + 1));
                    hi_pos = max(hi_pos, q_pos[i]);
                }
            }
        }
        __syncthreads();
        const int s = todo_seq;
        if (s < 0) break;
        for (int i = 0; i < PF_BQ; i++) if (q_seq[i] == s) done |= 1u << i;
        const int lo = lo_pos, hi = hi_pos;
        const size_t row = (size_t) n_kv_heads * head_dim;  // floats per slot
        const float* kc = k_cache + (size_t) s * window * row + (size_t) g * head_dim;
        const float* vc = v_cache + (size_t) s * window * row + (size_t) g * head_dim;
        const bool mine = has_q && q_seq[qi] == s;
        const int my_pos = q_pos[qi];
        for (int kt = lo; kt <= hi; kt += PF_BK) {
            __syncthreads();
            for (int i = threadIdx.x; i < PF_BK * head_dim; i += blockDim.x) {
                const int p = kt + i / head_dim, d = i % head_dim;
                const size_t off = (size_t) (p % window) * row + d;
                Ks[(i / head_dim) * ks_stride + d] = p <= hi ? kc[off] : 0.f;
                Vs[i] = p <= hi ? vc[off] : 0.f;
            }
            __syncthreads();
            const int p = kt + sub;
            float score = -INFINITY;
            if (mine && p <= my_pos && my_pos - p < span) {
                score = 0.f;
                for (int d = 0; d < head_dim; d++) score += Qs[qi * head_dim + d] * Ks[sub * ks_stride + d];
            }
            float tile_max = score;
#pragma unroll
            for (int off = 8; off > 0; off >>= 1) tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, off, 16));
            const float m_new = fmaxf(m, tile_max);
            const float pr = score == -INFINITY ? 0.f : expf(score - m_new);
            const float corr = m == -INFINITY ? (m_new == -INFINITY ? 1.f : 0.f) : expf(m - m_new);
            float psum = pr;
#pragma unroll
            for (int off = 8; off > 0; off >>= 1) psum += __shfl_xor_sync(0xffffffffu, psum, off, 16);
            l = l * corr + psum;
            m = m_new;
#pragma unroll
            for (int j = 0; j < PF_MAX_D; j++) o[j] *= corr;
            for (int kk = 0; kk < PF_BK; kk++) {
                const float pk = __shfl_sync(0xffffffffu, pr, kk, 16);  // key kk's probability for this query
#pragma unroll
                for (int j = 0; j < PF_MAX_D; j++) {
                    const int d = sub + 16 * j;
                    if (d < head_dim) o[j] += pk * Vs[kk * head_dim + d];
                }
            }
        }
        __syncthreads();
    }
    if (!has_q) return;
    float* dst = out + ((size_t) t * n_heads + h) * head_dim;
#pragma unroll
    for (int j = 0; j < PF_MAX_D; j++) {
        const int d = sub + 16 * j;
        if (d < head_dim) dst[d] = o[j] / l;
    }
}
