package dev.jllm.cuda.ref;

/** CPU twin of {@code moe_route.cu}. */
public final class MoeRef {
    /** Softmax over the chosen top-k logits (Mixtral). */
    public static final int SOFTMAX_TOPK = 0;
    /** Softmax over all experts, keep the top-k probabilities as they are. */
    public static final int SOFTMAX_ALL = 1;
    /** Softmax over all experts, keep the top-k, renormalise to sum 1. */
    public static final int SOFTMAX_ALL_RENORM = 2;

    private MoeRef() {
    }

    /** The routing of one token. */
    public record Route(int[] experts, float[] weights) {
    }

    /** Top-k by logit (ties to the lower expert id), then the gate weights per {@code mode}. */
    public static Route route(float[] logits, int off, int nExperts, int topK, int mode) {
        int[] ids = new int[topK];
        boolean[] taken = new boolean[nExperts];
        for (int j = 0; j < topK; j++) {
            int best = -1;
            for (int e = 0; e < nExperts; e++) {
                if (!taken[e] && (best < 0 || logits[off + e] > logits[off + best])) best = e;
            }
            taken[best] = true;
            ids[j] = best;
        }
        double allMax = Double.NEGATIVE_INFINITY, allSum = 0;
        for (int e = 0; e < nExperts; e++) allMax = Math.max(allMax, logits[off + e]);
        for (int e = 0; e < nExperts; e++) allSum += Math.exp(logits[off + e] - allMax);
        double topMax = logits[off + ids[0]], topSum = 0, keptSum = 0;
        for (int j = 0; j < topK; j++) {
            topSum += Math.exp(logits[off + ids[j]] - topMax);
            keptSum += Math.exp(logits[off + ids[j]] - allMax) / allSum;
        }
        float[] w = new float[topK];
        for (int j = 0; j < topK; j++) {
            double pAll = Math.exp(logits[off + ids[j]] - allMax) / allSum;
            w[j] = (float) switch (mode) {
                case SOFTMAX_TOPK -> Math.exp(logits[off + ids[j]] - topMax) / topSum;
                case SOFTMAX_ALL -> pAll;
                case SOFTMAX_ALL_RENORM -> pAll / keptSum;
                default -> throw new IllegalArgumentException("MoE routing mode " + mode);
            };
        }
        return new Route(ids, w);
    }
}
