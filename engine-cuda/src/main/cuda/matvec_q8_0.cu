// y[rows] = W[rows x cols] (Q8_0, device layout) . x[cols]
// Launch: grid (ceil(rows / 8)), block (256): one warp per output row; dynamic shared memory
// cols * 4 bytes to stage x there (or 0 to read it from global memory).
#include "matvec.cuh"
JLLM_DEFINE_MATVEC_STAGED(jllm_matvec_q8_0, row_dot_q8_0, row_dot_q8_0x, XStagedQ8)
