// y[rows] = W[rows x cols] (Q4_0, device layout) . x[cols]
// Launch: grid (ceil(rows / 8)), block (256): one warp per output row; no shared memory.
#include "matvec.cuh"
JLLM_DEFINE_MATVEC(jllm_matvec_q4_0, row_dot_q4_0)
