package dev.jllm.cuda.bench;

import dev.jllm.gguf.GgmlType;

/**
 * The shape of a Llama-family model, for random-weight benchmarks.
 *
 * @param dim     model width
 * @param layers  transformer blocks
 * @param heads   query heads
 * @param kvHeads key/value heads (GQA)
 * @param headDim per-head width
 * @param ffn     SwiGLU hidden width
 * @param vocab   vocabulary (output rows)
 */
public record LlamaShape(String name, int dim, int layers, int heads, int kvHeads, int headDim, int ffn, int vocab) {
    public static final LlamaShape LLAMA_3_2_1B = new LlamaShape("Llama-3.2-1B", 2048, 16, 32, 8, 64, 8192, 128256);
    public static final LlamaShape LLAMA_2_7B = new LlamaShape("Llama-2-7B", 4096, 32, 32, 32, 128, 11008, 32000);

    public int qDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Bytes of the matrices one decode step reads: per layer wq, wk, wv, wo, w1, w3, w2; then the output. */
    public long weightBytes(GgmlType type) {
        long perLayer = type.bytesFor((long) qDim() * dim) + 2 * type.bytesFor((long) kvDim() * dim)
                + type.bytesFor((long) dim * qDim()) + 3 * type.bytesFor((long) ffn * dim);
        return layers * perLayer + type.bytesFor((long) vocab * dim);
    }
}
