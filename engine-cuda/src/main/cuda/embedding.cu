// Embedding gather: out[t][:] = dequant(table row ids[t]) for t in [0, n_tokens).
// table: [vocab][dim] in device layout of `type` (a ggml type id, see common.cuh); ids: [n_tokens] int32
// out: [n_tokens][dim] f32.
// Launch: grid (n_tokens), block (256); no shared memory. Ids outside [0, vocab) write NaN rows.
#include "common.cuh"

extern "C" __global__ void __launch_bounds__(256) jllm_embedding(
    const uint8_t* __restrict__ table, int type, int vocab, int dim,
    const int* __restrict__ ids, float* __restrict__ out, int n_tokens) {
    const int t = blockIdx.x;
    if (t >= n_tokens) return;
    const int id = ids[t];
    float* o = out + (size_t) t * dim;
    const bool ok = id >= 0 && id < vocab;
    for (int c = threadIdx.x; c < dim; c += blockDim.x) {
        o[c] = ok ? load_weight(table, type, vocab, dim, id, c) : __int_as_float(0x7fc00000);
    }
}
