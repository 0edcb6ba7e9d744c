// y[rows] = W[rows x cols] (Q4_K, device layout) . x[cols]
// Launch: grid (ceil(rows / 8)), block (256): one warp per output row; no shared memory (so of the
// matvec modes, see matvec.cuh, only JLLM_OUT_ADD).
#include "matvec.cuh"
JLLM_DEFINE_MATVEC(jllm_matvec_q4_k, row_dot_q4_k)
