// y[rows] = W[rows x cols] (BF16, device layout) . x[cols]
// Launch: grid (ceil(rows / 8)), block (256): one warp per output row; no shared memory
// (x is read from global memory: its lanes read x 16-32 bytes apart, which L1 serves well).
#include "matvec.cuh"
JLLM_DEFINE_MATVEC(jllm_matvec_bf16, row_dot_bf16)
