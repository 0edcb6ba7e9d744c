package dev.jllm.engine.llama;

import dev.jllm.engine.tensor.MatOps;
import dev.jllm.engine.tensor.WeightMatrix;

/**
 * Mixtral's sparse mixture of experts: the router scores every expert, each token goes to its top-k, whose
 * SwiGLU outputs are summed with weights {@code softmax} over the chosen router logits. Tokens routed to the
 * same expert are processed together, so each expert's weights are read once per pass.
 */
public final class SparseMoeFfn implements FeedForwardBlock {
    private final WeightMatrix router; // [nExperts, dim]
    private final SwiGluFfn[] experts;
    private final int topK;
    private final int dim;

    public SparseMoeFfn(WeightMatrix router, SwiGluFfn[] experts, int topK) {
        if (router.rows() != experts.length) {
            throw new IllegalArgumentException("router has " + router.rows() + " outputs for " + experts.length + " experts");
        }
        if (topK < 1 || topK > experts.length) throw new IllegalArgumentException("top-" + topK + " of " + experts.length);
        this.router = router;
        this.experts = experts.clone();
        this.topK = topK;
        this.dim = router.cols();
    }

    @Override
    public void forward(int n, float[] x, float[] out) {
        int nExperts = experts.length;
        float[] logits = new float[n * nExperts]; // [n][nExperts]
        MatOps.matmul(router, x, n, logits);
        int[] chosen = new int[n * topK];         // [n][topK] expert ids
        float[] weight = new float[n * topK];     // [n][topK] softmax over the chosen logits
        for (int t = 0; t < n; t++) {
            route(logits, t * nExperts, nExperts, chosen, weight, t * topK, topK);
        }
        java.util.Arrays.fill(out, 0, n * dim, 0f);
        int[] tokens = new int[n];
        float[] xe = new float[n * dim]; // [m][dim] inputs routed to one expert
        float[] ye = new float[n * dim]; // [m][dim] its outputs
        float[] we = new float[n];       // [m] their weights
        for (int e = 0; e < nExperts; e++) {
            int m = 0;
            for (int t = 0; t < n; t++) {
                for (int j = 0; j < topK; j++) {
                    if (chosen[t * topK + j] == e) {
                        tokens[m] = t;
                        we[m] = weight[t * topK + j];
                        System.arraycopy(x, t * dim, xe, m * dim, dim);
                        m++;
                    }
                }
            }
            if (m == 0) continue;
            experts[e].forward(m, xe, ye);
            for (int i = 0; i < m; i++) {
                int o = tokens[i] * dim;
                float w = we[i];
                for (int d = 0; d < dim; d++) out[o + d] += w * ye[i * dim + d];
            }
        }
    }

    /** Top-k of {@code logits[off ..+n]} (ties: lower id first) and the softmax over the chosen ones. */
    static void route(float[] logits, int off, int n, int[] chosen, float[] weight, int cOff, int k) {
        boolean[] taken = new boolean[n];
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int e = 0; e < n; e++) {
                if (!taken[e] && (best < 0 || logits[off + e] > logits[off + best])) best = e;
            }
            taken[best] = true;
            chosen[cOff + j] = best;
            weight[cOff + j] = logits[off + best];
        }
        Ops.softmax(weight, cOff, k);
    }
}
