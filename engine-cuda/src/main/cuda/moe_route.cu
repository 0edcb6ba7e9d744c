// MoE routing on the device: for token t, pick the top_k experts by router logit and their gate weights.
// mode 0 (Mixtral): softmax over the top_k chosen logits.
// mode 1 (Qwen2-MoE / DeepSeek style, norm_topk_prob = false): softmax over all experts, keep the top_k.
// mode 2: like 1, then renormalise the kept probabilities to sum to 1.
// Ties break towards the lower expert id (same as the CPU reference).
// logits: [n_tokens][n_experts] f32 -> expert_ids [n_tokens][top_k] int32, gate_weights [n_tokens][top_k] f32.
// Launch: grid (n_tokens), block (32): one warp per token; n_experts <= 1024, top_k <= 32.
#include "common.cuh"

extern "C" __global__ void __launch_bounds__(32) jllm_moe_route(
    const float* __restrict__ logits, int* __restrict__ expert_ids, float* __restrict__ gate_weights,
    int n_tokens, int n_experts, int top_k, int mode) {
    const int t = blockIdx.x, lane = threadIdx.x;
    if (t >= n_tokens) return;
    const float* z = logits + (size_t) t * n_experts;
    float all_max = -INFINITY;
    for (int e = lane; e < n_experts; e += 32) all_max = fmaxf(all_max, z[e]);
    all_max = warp_max(all_max);
    float all_sum = 0.f;
    for (int e = lane; e < n_experts; e += 32) all_sum += expf(z[e] - all_max);
    all_sum = warp_sum(all_sum);
    unsigned long long taken[16] = {};  // bitmask over experts (n_experts <= 1024)
    float chosen = 0.f;                 // lane j < top_k keeps logit of choice j
    int chosen_id = -1;
    for (int j = 0; j < top_k; j++) {
        float best = -INFINITY;
        int best_e = INT_MAX;
        for (int e = lane; e < n_experts; e += 32) {
            if (taken[e >> 6] >> (e & 63) & 1ull) continue;
            const float v = z[e];
            if (v > best || (v == best && e < best_e)) { best = v; best_e = e; }
        }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            const float ov = __shfl_xor_sync(0xffffffffu, best, o);
            const int oe = __shfl_xor_sync(0xffffffffu, best_e, o);
            if (ov > best || (ov == best && oe < best_e)) { best = ov; best_e = oe; }
        }
        taken[best_e >> 6] |= 1ull << (best_e & 63);
        if (lane == j) { chosen = best; chosen_id = best_e; }
    }
    const bool active = lane < top_k;
    const float top_max = warp_max(active ? chosen : -INFINITY);
    const float e_top = active ? expf(chosen - top_max) : 0.f;
    const float top_sum = warp_sum(e_top);
    const float p_all = active ? expf(chosen - all_max) / all_sum : 0.f;
    const float kept_sum = warp_sum(p_all);
    if (!active) return;
    float w;
    if (mode == 0) w = e_top / top_sum;
    else if (mode == 1) w = p_all;
    else w = p_all / kept_sum;
    expert_ids[(size_t) t * top_k + lane] = chosen_id;
    gate_weights[(size_t) t * top_k + lane] = w;
}
