// RoPE on q and k, fused with the KV-cache write.
// For token t at position pos = positions[t] of sequence s = seq_slots[t]:
//   q[t][h] rotated in place (h < n_heads); k[t][g] rotated and stored with v[t][g] (g < n_kv_heads) at
//   k_cache[s][pos mod W][g][:] and v_cache[s][pos mod W][g][:]  (rolling buffer of W slots; slot-major,
//   the CPU KvCache's [capacity][kvDim] layout per sequence and layer).
// Pair i (i < rot_dim / 2) rotates by angle pos * inv_freq[i]; inv_freq already holds the base, the
// Llama 3 frequency scaling or rope_freqs factors (computed on the host, dev.jllm.cuda.ref.RopeRef).
// pairing 0 = adjacent pairs (x[2i], x[2i+1]) (GGML "normal", llama2.c);
// pairing 1 = half-split pairs (x[i], x[i + rot_dim/2]) (GGML "neox", HF).
// Dimensions >= rot_dim are copied unrotated (partial rotary).
// Within one launch the tokens of a sequence must map to distinct slots (at most W tokens per sequence):
// tokens run in parallel, so two writes to one slot would race. The host chunks longer batches.
// Shapes: q [n_tokens][n_heads][head_dim], k, v [n_tokens][n_kv_heads][head_dim];
//         caches [n_seqs][W][n_kv_heads][head_dim] f32; positions, seq_slots [n_tokens] int32.
// Launch: grid (n_tokens, n_heads + n_kv_heads), block (head_dim / 2 rounded up to 32, at most 512).
#include "common.cuh"

__device__ __forceinline__ void rope_pair(float* x, int i, int half, int pairing, float c, float s) {
    const int a = pairing == 0 ? 2 * i : i;
    const int b = pairing == 0 ? 2 * i + 1 : i + half;
    const float x0 = x[a], x1 = x[b];
    x[a] = x0 * c - x1 * s;
    x[b] = x0 * s + x1 * c;
}

extern "C" __global__ void __launch_bounds__(512) jllm_rope_kv(
    float* __restrict__ q, float* __restrict__ k, const float* __restrict__ v,
    float* __restrict__ k_cache, float* __restrict__ v_cache,
    const int* __restrict__ positions, const int* __restrict__ seq_slots, const float* __restrict__ inv_freq,
    int n_tokens, int n_heads, int n_kv_heads, int head_dim, int rot_dim, int pairing, int window) {
    const int t = blockIdx.x, h = blockIdx.y;
    if (t >= n_tokens) return;
    const int pos = positions[t];
    const int half = rot_dim / 2;
    const bool is_q = h < n_heads;
    float* x = is_q ? q + ((size_t) t * n_heads + h) * head_dim
                    : k + ((size_t) t * n_kv_heads + (h - n_heads)) * head_dim;
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        float s, c;
        sincosf((float) pos * inv_freq[i], &s, &c);
        rope_pair(x, i, half, pairing, c, s);
    }
    if (is_q) return;
    __syncthreads();
    const int g = h - n_heads;
    const size_t slot = (size_t) (pos % window);
    const size_t dst = (((size_t) seq_slots[t] * window + slot) * n_kv_heads + g) * head_dim;
    const float* vt = v + ((size_t) t * n_kv_heads + g) * head_dim;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        k_cache[dst + d] = x[d];
        v_cache[dst + d] = vt[d];
    }
}
