package dev.jllm.engine.llama4;

import dev.jllm.engine.llama.Attention;
import dev.jllm.engine.llama.AttentionBlock;
import dev.jllm.engine.llama.Batch;
import dev.jllm.engine.llama.Ops;
import dev.jllm.engine.llama.Rope;
import dev.jllm.engine.model.LayerSpec;
import dev.jllm.engine.model.ModelConfig;
import dev.jllm.engine.tensor.MatOps;
import dev.jllm.engine.tensor.WeightMatrix;

/**
 * Llama 4 text self-attention. Per layer kind ({@link LayerSpec}):
 * <ul>
 *   <li>RoPE layers: RoPE on q and k (adjacent pairs, HF's complex form), then, when the model uses QK-norm, a
 *       weightless RMS ("L2") norm of every q and k head: {@code v / sqrt(mean(v^2) + eps)};
 *       attention is chunked ({@code spec.window()} = {@code attention_chunk_size}: a query sees the earlier
 *       positions of its own chunk only).</li>
 *   <li>NoPE layers: no rotation and no QK-norm; global causal attention; with attention temperature tuning
 *       the query at position {@code pos} is scaled by
 *       {@code 1 + attn_scale * log1p(floor((pos + 1) / floor_scale))} (long-context sharpening).</li>
 * </ul>
 * Scores use the usual {@code 1 / sqrt(headDim)}.
 */
public final class Llama4Attention implements AttentionBlock {
    private final WeightMatrix wq; // [nHeads * headDim, dim]
    private final WeightMatrix wk; // [nKvHeads * headDim, dim]
    private final WeightMatrix wv; // [nKvHeads * headDim, dim]
    private final WeightMatrix wo; // [dim, nHeads * headDim]
    private final Rope rope;       // null on NoPE layers
    private final LayerSpec spec;
    private final boolean qkNorm;
    private final float normEps;
    private final float attnScale;  // temperature tuning strength, 0: off (always off on RoPE layers)
    private final float floorScale;
    private final int nHeads, nKvHeads, headDim;
    private final float scale;

    public Llama4Attention(ModelConfig c, LayerSpec spec, Rope rope, WeightMatrix wq, WeightMatrix wk,
                           WeightMatrix wv, WeightMatrix wo) {
        this.nHeads = c.nHeads();
        this.nKvHeads = c.nKvHeads();
        this.headDim = c.headDim();
        check("wq", wq, nHeads * headDim, c.dim());
        check("wk", wk, nKvHeads * headDim, c.dim());
        check("wv", wv, nKvHeads * headDim, c.dim());
        check("wo", wo, c.dim(), nHeads * headDim);
        this.wq = wq;
        this.wk = wk;
        this.wv = wv;
        this.wo = wo;
        this.spec = spec;
        this.rope = spec.rope() ? rope : null;
        if (spec.rope() && rope == null) throw new IllegalArgumentException("a RoPE layer needs a Rope");
        this.qkNorm = c.qkNorm() && spec.rope();
        this.normEps = c.normEps();
        this.attnScale = spec.rope() ? 0f : c.attnTemperature();
        this.floorScale = c.attnFloorScale();
        if (attnScale != 0f && !(floorScale > 0)) {
            throw new IllegalArgumentException("attention temperature tuning needs floor_scale > 0, got " + floorScale);
        }
        this.scale = (float) (1.0 / Math.sqrt(headDim));
    }

    private static void check(String name, WeightMatrix w, int rows, int cols) {
        if (w.rows() != rows || w.cols() != cols) {
            throw new IllegalArgumentException("Llama 4 attention " + name + " is " + w.rows() + "x" + w.cols()
                    + ", expected " + rows + "x" + cols);
        }
    }

    /** The query scale of temperature tuning at {@code pos}: {@code 1 + attnScale * log1p(floor((pos+1)/floorScale))}. */
    public static float temperatureScale(int pos, float attnScale, float floorScale) {
        return (float) (1.0 + attnScale * Math.log1p(Math.floor((pos + 1.0) / floorScale)));
    }

    @Override
    public void forward(Batch batch, int layer, float[] x, float[] out) {
        int n = batch.size();
        int qDim = nHeads * headDim;
        float[] q = new float[n * qDim];               // [n][nHeads * headDim]
        float[] k = new float[n * nKvHeads * headDim]; // [n][nKvHeads * headDim]
        float[] v = new float[n * nKvHeads * headDim]; // [n][nKvHeads * headDim]
        MatOps.matmul(wq, x, n, q);
        MatOps.matmul(wk, x, n, k);
        MatOps.matmul(wv, x, n, v);
        if (rope != null) Attention.rope(batch, rope, q, nHeads, k, nKvHeads, headDim);
        if (qkNorm) {
            Ops.l2norm(q, 0, n * nHeads, headDim, normEps);
            Ops.l2norm(k, 0, n * nKvHeads, headDim, normEps);
        }
        if (attnScale != 0f) {
            for (int t = 0; t < n; t++) {
                float s = temperatureScale(batch.position(t), attnScale, floorScale);
                for (int i = t * qDim; i < (t + 1) * qDim; i++) q[i] *= s;
            }
        }
        float[] att = new float[n * qDim];             // [n][nHeads * headDim]
        Attention.attend(batch, layer, spec, q, k, v, att, nHeads, nKvHeads, headDim, scale);
        Attention.store(batch, layer, k, v, nKvHeads * headDim);
        MatOps.matmul(wo, att, n, out);
    }
}
