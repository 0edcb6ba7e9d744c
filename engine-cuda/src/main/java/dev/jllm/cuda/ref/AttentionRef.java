package dev.jllm.cuda.ref;

/**
 * CPU twin of {@code attention_decode.cu} and {@code attention_prefill.cu}: softmax attention of a query
 * at position {@code pos} of sequence {@code s} over the positions {@code p} with
 * {@code pos - span < p <= pos}, read from the rolling, slot-major cache {@code [nSeqs][window][nKvHeads][headDim]} at
 * slot {@code p mod window}; head {@code h} reads kv head {@code h / (nHeads / nKvHeads)}. Plain two-pass
 * softmax in double: the split-K and online-softmax kernels must agree with it within tolerance.
 */
public final class AttentionRef {
    private AttentionRef() {
    }

    /** One query head: writes {@code [headDim]} into {@code out[outOff ..]}. */
    public static void attend(float[] q, int qOff, float[] kCache, float[] vCache, int seq, int pos, int nHeads,
                              int nKvHeads, int headDim, int window, int span, float scale, int h, float[] out, int outOff) {
        int g = h / (nHeads / nKvHeads);
        int first = Math.max(0, pos - span + 1);
        int n = pos - first + 1;
        double[] score = new double[n];
        double max = Double.NEGATIVE_INFINITY;
        int row = nKvHeads * headDim;  // floats per slot
        int base = seq * window * row + g * headDim;
        for (int i = 0; i < n; i++) {
            int slot = (first + i) % window;
            double acc = 0;
            for (int d = 0; d < headDim; d++) acc += (double) q[qOff + d] * scale * kCache[base + slot * row + d];
            score[i] = acc;
            max = Math.max(max, acc);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            score[i] = Math.exp(score[i] - max);
            sum += score[i];
        }
        for (int d = 0; d < headDim; d++) {
            double acc = 0;
            for (int i = 0; i < n; i++) acc += score[i] * vCache[base + ((first + i) % window) * row + d];
            out[outOff + d] = (float) (acc / sum);
        }
    }

    /** Decode: one token per sequence, {@code q, out [nSeqs][nHeads][headDim]}. */
    public static float[] decode(float[] q, float[] kCache, float[] vCache, int[] positions, int nHeads, int nKvHeads,
                                 int headDim, int window, int span, float scale) {
        float[] out = new float[q.length];
        for (int s = 0; s < positions.length; s++) {
            for (int h = 0; h < nHeads; h++) {
                int off = (s * nHeads + h) * headDim;
                attend(q, off, kCache, vCache, s, positions[s], nHeads, nKvHeads, headDim, window, span, scale, h, out, off);
            }
        }
        return out;
    }

    /** Prefill: token t of sequence {@code seqSlots[t]} at {@code positions[t]}, {@code q, out [nTokens][nHeads][headDim]}. */
    public static float[] prefill(float[] q, float[] kCache, float[] vCache, int[] positions, int[] seqSlots, int nHeads,
                                  int nKvHeads, int headDim, int window, int span, float scale) {
        float[] out = new float[q.length];
        for (int t = 0; t < positions.length; t++) {
            for (int h = 0; h < nHeads; h++) {
                int off = (t * nHeads + h) * headDim;
                attend(q, off, kCache, vCache, seqSlots[t], positions[t], nHeads, nKvHeads, headDim, window, span, scale, h, out, off);
            }
        }
        return out;
    }
}
