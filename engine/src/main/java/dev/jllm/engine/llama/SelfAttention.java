package dev.jllm.engine.llama;

import dev.jllm.engine.model.LayerSpec;
import dev.jllm.engine.model.ModelConfig;
import dev.jllm.engine.tensor.MatOps;
import dev.jllm.engine.tensor.WeightMatrix;

/**
 * Llama/Mistral/Mixtral grouped-query self-attention: {@code q = wq x, k = wk x, v = wv x}, RoPE on q and k,
 * attention under the layer's mask (causal, or Mistral's sliding window), {@code out = wo att}.
 */
public final class SelfAttention implements AttentionBlock {
    private final WeightMatrix wq; // [nHeads * headDim, dim]
    private final WeightMatrix wk; // [nKvHeads * headDim, dim]
    private final WeightMatrix wv; // [nKvHeads * headDim, dim]
    private final WeightMatrix wo; // [dim, nHeads * headDim]
    private final WeightMatrix[] wqkv; // wq, wk, wv: one pass over the input
    private final Rope rope;       // null: no positional rotation (NoPE)
    private final LayerSpec spec;
    private final int nHeads, nKvHeads, headDim;
    private final float scale;

    public SelfAttention(ModelConfig c, LayerSpec spec, Rope rope, WeightMatrix wq, WeightMatrix wk, WeightMatrix wv,
                         WeightMatrix wo) {
        this.wq = wq;
        this.wk = wk;
        this.wv = wv;
        this.wo = wo;
        this.wqkv = new WeightMatrix[]{wq, wk, wv};
        this.rope = spec.rope() ? rope : null;
        this.spec = spec;
        this.nHeads = c.nHeads();
        this.nKvHeads = c.nKvHeads();
        this.headDim = c.headDim();
        this.scale = (float) (1.0 / Math.sqrt(headDim));
    }

    @Override
    public void forward(Batch batch, int layer, float[] x, float[] out) {
        int n = batch.size();
        float[] q = new float[n * nHeads * headDim];   // [n][nHeads * headDim]
        float[] k = new float[n * nKvHeads * headDim]; // [n][nKvHeads * headDim]
        float[] v = new float[n * nKvHeads * headDim]; // [n][nKvHeads * headDim]
        MatOps.matmul(wqkv, x, n, new float[][]{q, k, v});
        if (rope != null) Attention.rope(batch, rope, q, nHeads, k, nKvHeads, headDim);
        float[] att = new float[n * nHeads * headDim]; // [n][nHeads * headDim]
        Attention.attend(batch, layer, spec, q, k, v, att, nHeads, nKvHeads, headDim, scale);
        Attention.store(batch, layer, k, v, nKvHeads * headDim);
        MatOps.matmul(wo, att, n, out);
    }
}
