package dev.jllm.cuda.kernels;

import dev.jllm.cuda.ffm.ParamKind;

import java.util.List;

import static dev.jllm.cuda.ffm.ParamKind.F32;
import static dev.jllm.cuda.ffm.ParamKind.I32;
import static dev.jllm.cuda.ffm.ParamKind.I64;
import static dev.jllm.cuda.ffm.ParamKind.PTR;

/**
 * The registry of every kernel in {@code jllm-kernels.fatbin}: its {@code extern "C"} symbol, the
 * {@code .cu} file it lives in and its C parameter list. The launch configuration of each is documented
 * in its {@code .cu} file and computed by {@link CudaKernels}. The build's tests check that the fatbin
 * holds every symbol (SASS for sm_80 and sm_90, PTX for compute_90) with this parameter list.
 */
public enum Kernel {
    EMBEDDING("jllm_embedding", "embedding.cu", PTR, I32, I32, I32, PTR, PTR, I32),
    RMSNORM("jllm_rmsnorm", "rmsnorm.cu", PTR, PTR, PTR, I32, I32, F32),
    MATVEC_F32("jllm_matvec_f32", "matvec_f32.cu", PTR, PTR, PTR, F32, PTR, I32, I32, I32),
    MATVEC_F16("jllm_matvec_f16", "matvec_f16.cu", PTR, PTR, PTR, F32, PTR, I32, I32, I32),
    MATVEC_BF16("jllm_matvec_bf16", "matvec_bf16.cu", PTR, PTR, PTR, F32, PTR, I32, I32, I32),
    MATVEC_Q8_0("jllm_matvec_q8_0", "matvec_q8_0.cu", PTR, PTR, PTR, F32, PTR, I32, I32, I32),
    MATVEC_Q4_0("jllm_matvec_q4_0", "matvec_q4_0.cu", PTR, PTR, PTR, F32, PTR, I32, I32, I32),
    MATVEC_Q4_K("jllm_matvec_q4_k", "matvec_q4_k.cu", PTR, PTR, PTR, F32, PTR, I32, I32, I32),
    MATVEC_Q6_K("jllm_matvec_q6_k", "matvec_q6_k.cu", PTR, PTR, PTR, F32, PTR, I32, I32, I32),
    MATVEC_MULTI_F32("jllm_matvec_multi_f32", "matvec_multi.cu", PTR, PTR, PTR, PTR, PTR, PTR, PTR, I32, I32, I32, I32, I32),
    MATVEC_MULTI_F16("jllm_matvec_multi_f16", "matvec_multi.cu", PTR, PTR, PTR, PTR, PTR, PTR, PTR, I32, I32, I32, I32, I32),
    MATVEC_MULTI_BF16("jllm_matvec_multi_bf16", "matvec_multi.cu", PTR, PTR, PTR, PTR, PTR, PTR, PTR, I32, I32, I32, I32, I32),
    MATVEC_MULTI_Q8_0("jllm_matvec_multi_q8_0", "matvec_multi.cu", PTR, PTR, PTR, PTR, PTR, PTR, PTR, I32, I32, I32, I32, I32),
    MATVEC_MULTI_Q4_0("jllm_matvec_multi_q4_0", "matvec_multi.cu", PTR, PTR, PTR, PTR, PTR, PTR, PTR, I32, I32, I32, I32, I32),
    MATVEC_MULTI_Q4_K("jllm_matvec_multi_q4_k", "matvec_multi.cu", PTR, PTR, PTR, PTR, PTR, PTR, PTR, I32, I32, I32, I32, I32),
    MATVEC_MULTI_Q6_K("jllm_matvec_multi_q6_k", "matvec_multi.cu", PTR, PTR, PTR, PTR, PTR, PTR, PTR, I32, I32, I32, I32, I32),
    MATVEC_BATCH_F32("jllm_matvec_batch_f32", "matvec_batch.cu", PTR, PTR, PTR, I32, I32, I32),
    MATVEC_BATCH_F16("jllm_matvec_batch_f16", "matvec_batch.cu", PTR, PTR, PTR, I32, I32, I32),
    MATVEC_BATCH_BF16("jllm_matvec_batch_bf16", "matvec_batch.cu", PTR, PTR, PTR, I32, I32, I32),
    MATVEC_BATCH_Q8_0("jllm_matvec_batch_q8_0", "matvec_batch.cu", PTR, PTR, PTR, I32, I32, I32),
    MATVEC_BATCH_Q4_0("jllm_matvec_batch_q4_0", "matvec_batch.cu", PTR, PTR, PTR, I32, I32, I32),
    MATVEC_BATCH_Q4_K("jllm_matvec_batch_q4_k", "matvec_batch.cu", PTR, PTR, PTR, I32, I32, I32),
    MATVEC_BATCH_Q6_K("jllm_matvec_batch_q6_k", "matvec_batch.cu", PTR, PTR, PTR, I32, I32, I32),
    MATMUL("jllm_matmul", "matmul.cu", PTR, I32, PTR, PTR, I32, I32, I32),
    ROPE_KV("jllm_rope_kv", "rope_kv.cu", PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, I32, I32, I32, I32, I32, I32, I32),
    ATTENTION_DECODE("jllm_attention_decode", "attention_decode.cu",
            PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, I32, I32, I32, I32, I32, I32, I32, F32),
    ATTENTION_PREFILL("jllm_attention_prefill", "attention_prefill.cu",
            PTR, PTR, PTR, PTR, PTR, PTR, I32, I32, I32, I32, I32, I32, F32),
    SWIGLU("jllm_swiglu", "swiglu.cu", PTR, PTR, PTR, I32),
    RESIDUAL_ADD("jllm_residual_add", "residual_add.cu", PTR, PTR, I32),
    MOE_ROUTE("jllm_moe_route", "moe_route.cu", PTR, PTR, PTR, I32, I32, I32, I32),
    MOE_MATVEC_F32("jllm_moe_matvec_f32", "moe_matvec.cu", PTR, I64, PTR, PTR, I32, PTR, I32, I32),
    MOE_MATVEC_F16("jllm_moe_matvec_f16", "moe_matvec.cu", PTR, I64, PTR, PTR, I32, PTR, I32, I32),
    MOE_MATVEC_BF16("jllm_moe_matvec_bf16", "moe_matvec.cu", PTR, I64, PTR, PTR, I32, PTR, I32, I32),
    MOE_MATVEC_Q8_0("jllm_moe_matvec_q8_0", "moe_matvec.cu", PTR, I64, PTR, PTR, I32, PTR, I32, I32),
    MOE_MATVEC_Q4_0("jllm_moe_matvec_q4_0", "moe_matvec.cu", PTR, I64, PTR, PTR, I32, PTR, I32, I32),
    MOE_MATVEC_Q4_K("jllm_moe_matvec_q4_k", "moe_matvec.cu", PTR, I64, PTR, PTR, I32, PTR, I32, I32),
    MOE_MATVEC_Q6_K("jllm_moe_matvec_q6_k", "moe_matvec.cu", PTR, I64, PTR, PTR, I32, PTR, I32, I32),
    MOE_COMBINE("jllm_moe_combine", "moe_matvec.cu", PTR, PTR, PTR, I32, I32),
    ARGMAX("jllm_argmax", "sampling.cu", PTR, PTR, I32),
    SAMPLE("jllm_sample", "sampling.cu", PTR, I32, F32, I32, F32, PTR, PTR),
    FILL_RANDOM("jllm_fill_random", "fill.cu", PTR, I64, I64, I32, I32);

    /** The {@code extern "C"} symbol. */
    public final String symbol;
    /** The source file under {@code src/main/cuda}. */
    public final String sourceFile;
    /** The C parameter kinds, in order. */
    public final List<ParamKind> params;

    Kernel(String symbol, String sourceFile, ParamKind... params) {
        this.symbol = symbol;
        this.sourceFile = sourceFile;
        this.params = List.of(params);
    }

    /** The classpath resource holding the fatbin. */
    public static final String FATBIN_RESOURCE = "/dev/jllm/cuda/jllm-kernels.fatbin";
}
