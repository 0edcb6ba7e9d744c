// Sampling on the device.
//
// jllm_argmax: out[r] = the lowest index of the largest logits[r][:]  (greedy decoding).
//   logits: [n_rows][n]; out: [n_rows] int32. Launch: grid (n_rows), block (1024).
//
// jllm_sample: temperature, top-k, then top-p (nucleus) sampling with a counter-based generator.
//   Candidates: the k = min(top_k, 256, n) largest logits (top_k <= 0 means 256), in descending order,
//   ties to the lower index; probabilities softmax(logit / temperature) over the candidates; keep the
//   shortest prefix whose mass reaches top_p; draw u = splitmix64(seed + counter * 0x9E3779B97F4A7C15)
//   as a 24-bit uniform in [0, 1) and pick the first candidate whose cumulative mass exceeds u * kept mass.
//   rng: [2] uint64 {seed, counter} in device memory; counter is incremented after each draw so a
//   captured graph draws a fresh number on every replay. temperature <= 0 falls back to argmax.
//   logits: [n]; out: [1] int32. Launch: grid (1), block (1024). dev.jllm.cuda.ref.SamplingRef is the CPU twin.
#include "common.cuh"

#define SAMPLE_MAX_K 256

__device__ __forceinline__ void argmax_pair(float& v, int& i, float ov, int oi) {
    if (ov > v || (ov == v && oi < i)) { v = ov; i = oi; }
}

__device__ void block_argmax(float& v, int& idx, float* sv, int* si) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        argmax_pair(v, idx, __shfl_xor_sync(0xffffffffu, v, o), __shfl_xor_sync(0xffffffffu, idx, o));
    }
    __syncthreads();
    if (lane == 0) { sv[warp] = v; si[warp] = idx; }
    __syncthreads();
    v = lane < nwarps ? sv[lane] : -INFINITY;
    idx = lane < nwarps ? si[lane] : INT_MAX;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        argmax_pair(v, idx, __shfl_xor_sync(0xffffffffu, v, o), __shfl_xor_sync(0xffffffffu, idx, o));
    }
}

extern "C" __global__ void __launch_bounds__(1024) jllm_argmax(const float* __restrict__ logits, int* __restrict__ out, int n) {
    __shared__ float sv[32];
    __shared__ int si[32];
    const float* z = logits + (size_t) blockIdx.x * n;
    float v = -INFINITY;
    int idx = INT_MAX;
    if ((n & 3) == 0 && ((uintptr_t) z & 15) == 0) {  // rows 16-byte aligned: float4 loads, many in flight (a 128k vocabulary is 32 per thread)
        const float4* z4 = (const float4*) z;
#pragma unroll 8
        for (int i = threadIdx.x; i < n / 4; i += blockDim.x) {
            const float4 f = z4[i];
            argmax_pair(v, idx, f.x, 4 * i);
            argmax_pair(v, idx, f.y, 4 * i + 1);
            argmax_pair(v, idx, f.z, 4 * i + 2);
            argmax_pair(v, idx, f.w, 4 * i + 3);
        }
    } else {
        for (int i = threadIdx.x; i < n; i += blockDim.x) argmax_pair(v, idx, z[i], i);
    }
    block_argmax(v, idx, sv, si);
    if (threadIdx.x == 0) out[blockIdx.x] = idx == INT_MAX ? 0 : idx;
}

__device__ __forceinline__ unsigned long long splitmix64(unsigned long long z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

extern "C" __global__ void __launch_bounds__(1024) jllm_sample(
    const float* __restrict__ logits, int n, float temperature, int top_k, float top_p,
    unsigned long long* __restrict__ rng, int* __restrict__ out) {
    __shared__ float sv[32];
    __shared__ int si[32];
    __shared__ float cand_v[SAMPLE_MAX_K];
    __shared__ int cand_i[SAMPLE_MAX_K];
    int k = top_k <= 0 ? SAMPLE_MAX_K : min(top_k, SAMPLE_MAX_K);
    k = min(k, n);
    if (temperature <= 0.f) k = 1;
    // k rounds of block argmax. (value desc, index asc) is a strict order, so round j skips exactly the
    // entries ranked at or above the previous pick.
    for (int j = 0; j < k; j++) {
        float v = -INFINITY;
        int idx = INT_MAX;
        const float last_v = j > 0 ? cand_v[j - 1] : INFINITY;
        const int last_i = j > 0 ? cand_i[j - 1] : -1;
        for (int i = threadIdx.x; i < n; i += blockDim.x) {
            const float z = logits[i];
            const bool taken = z > last_v || (z == last_v && i <= last_i);
            if (!taken) argmax_pair(v, idx, z, i);
        }
        block_argmax(v, idx, sv, si);
        if (threadIdx.x == 0) { cand_v[j] = v; cand_i[j] = idx; }
        __syncthreads();
    }
    if (threadIdx.x != 0) return;
    if (cand_i[0] == INT_MAX) { out[0] = 0; return; }  // every logit NaN: nothing to rank
    if (k == 1) { out[0] = cand_i[0]; return; }
    // softmax over candidates (descending), nucleus cut, draw
    const float inv_t = 1.f / temperature;
    float total = 0.f;
    const float top = cand_v[0];
    for (int j = 0; j < k; j++) { cand_v[j] = expf((cand_v[j] - top) * inv_t); total += cand_v[j]; }
    int kept = k;
    float mass = 0.f;
    for (int j = 0; j < k; j++) {
        mass += cand_v[j] / total;
        if (mass >= top_p) { kept = j + 1; break; }
    }
    float kept_mass = 0.f;
    for (int j = 0; j < kept; j++) kept_mass += cand_v[j];
    const unsigned long long counter = rng[1];
    const unsigned long long bits = splitmix64(rng[0] + counter * 0x9E3779B97F4A7C15ull);
    rng[1] = counter + 1;
    const float u = (float) (bits >> 40) * (1.f / 16777216.f) * kept_mass;
    float cum = 0.f;
    int pick = cand_i[kept - 1];
    for (int j = 0; j < kept; j++) {
        cum += cand_v[j];
        if (cum > u) { pick = cand_i[j]; break; }
    }
    out[0] = pick;
}
