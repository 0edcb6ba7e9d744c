package dev.jllm.engine.llama4;

import dev.jllm.engine.llama.FeedForwardBlock;
import dev.jllm.engine.llama.SwiGluFfn;
import dev.jllm.engine.tensor.MatOps;
import dev.jllm.engine.tensor.WeightMatrix;

/**
 * Llama 4's mixture of experts: an always-on shared SwiGLU expert plus routed SwiGLU experts. The router picks each
 * token's top-k experts (top-1 in Llama 4) by logit; an expert's weight is {@code sigmoid(logit)} and, unlike
 * Mixtral, it scales the expert's INPUT: {@code out = shared(x) + sum_e expert_e(sigmoid(r_e) * x)}.
 * Tokens routed to the same expert run together, so each expert's weights are read once per pass.
 */
public final class Llama4MoeFfn implements FeedForwardBlock {
    private final WeightMatrix router; // [nExperts, dim]
    private final SwiGluFfn[] experts;
    private final SwiGluFfn shared;
    private final int topK;
    private final int dim;

    public Llama4MoeFfn(WeightMatrix router, SwiGluFfn[] experts, SwiGluFfn shared, int topK) {
        if (router.rows() != experts.length) {
            throw new IllegalArgumentException("router has " + router.rows() + " outputs for " + experts.length + " experts");
        }
        if (topK < 1 || topK > experts.length) throw new IllegalArgumentException("top-" + topK + " of " + experts.length);
        this.router = router;
        this.experts = experts.clone();
        this.shared = java.util.Objects.requireNonNull(shared, "shared expert");
        this.topK = topK;
        this.dim = router.cols();
    }

    @Override
    public void forward(int n, float[] x, float[] out) {
        int nExperts = experts.length;
        float[] logits = new float[n * nExperts]; // [n][nExperts]
        MatOps.matmul(router, x, n, logits);
        int[] chosen = new int[n * topK];         // [n][topK] expert ids
        float[] score = new float[n * topK];      // [n][topK] sigmoid of their router logits
        for (int t = 0; t < n; t++) route(logits, t * nExperts, nExperts, chosen, score, t * topK, topK);

        shared.forward(n, x, out);                // out = shared(x)
        int[] tokens = new int[n];
        float[] xe = new float[n * dim];          // [m][dim] scaled inputs routed to one expert
        float[] ye = new float[n * dim];          // [m][dim] its outputs
        for (int e = 0; e < nExperts; e++) {
            int m = 0;
            for (int t = 0; t < n; t++) {
                for (int j = 0; j < topK; j++) {
                    if (chosen[t * topK + j] != e) continue;
                    float s = score[t * topK + j];
                    for (int d = 0; d < dim; d++) xe[m * dim + d] = s * x[t * dim + d];
                    tokens[m++] = t;
                }
            }
            if (m == 0) continue;
            experts[e].forward(m, xe, ye);
            for (int i = 0; i < m; i++) {
                int o = tokens[i] * dim;
                for (int d = 0; d < dim; d++) out[o + d] += ye[i * dim + d];
            }
        }
    }

    /** Top-k of {@code logits[off ..+n]} (ties: lower id first), each with {@code sigmoid(logit)} as its score. */
    static void route(float[] logits, int off, int n, int[] chosen, float[] score, int cOff, int k) {
        boolean[] taken = new boolean[n];
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int e = 0; e < n; e++) {
                if (!taken[e] && (best < 0 || logits[off + e] > logits[off + best])) best = e;
            }
            taken[best] = true;
            chosen[cOff + j] = best;
            score[cOff + j] = (float) (1.0 / (1.0 + Math.exp(-logits[off + best])));
        }
    }

    int experts() {
        return experts.length;
    }
}
