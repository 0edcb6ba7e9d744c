// y[rows] = W[rows x cols] (Q8_0, device layout) . x[cols]
// Launch: grid (ceil(rows / 8)), block (256): one warp per output row; no shared memory.
#include "matvec.cuh"
JLLM_DEFINE_MATVEC(jllm_matvec_q8_0, row_dot_q8_0)
