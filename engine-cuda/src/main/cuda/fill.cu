// Fills n 32-bit words with hashed pseudo-random bits: p[i] = (splitmix64(seed + i) & mask) | set.
// For benchmarks and tests that must not run on zeros. mask 0xBBFFBBFF keeps every f16/bf16/f32 view
// finite and below 1 in magnitude (exponent bits capped), whatever the weight type's layout.
// Launch: grid (min(ceil(n / 256), 65535)), block (256): grid-stride loop.
#include "common.cuh"

extern "C" __global__ void __launch_bounds__(256) jllm_fill_random(
    unsigned int* __restrict__ p, long long n, unsigned long long seed, unsigned int mask, unsigned int set) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        unsigned long long z = seed + (unsigned long long) i * 0x9E3779B97F4A7C15ull + 0x9E3779B97F4A7C15ull;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        p[i] = ((unsigned int) (z >> 32) & mask) | set;
    }
}
