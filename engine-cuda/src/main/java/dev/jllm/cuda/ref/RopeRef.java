package dev.jllm.cuda.ref;

/**
 * CPU twin of {@code rope_kv.cu}, plus the inverse-frequency table the kernel reads (computed on the
 * host): {@code theta^(-2i/dims)}, optionally with Llama 3 frequency scaling or per-pair divisors.
 */
public final class RopeRef {
    public static final int ADJACENT = 0;
    public static final int HALF_SPLIT = 1;

    private RopeRef() {
    }

    /** {@code [dims/2]} inverse frequencies, no scaling. */
    public static float[] invFreq(double theta, int dims) {
        float[] f = new float[dims / 2];
        for (int i = 0; i < f.length; i++) f[i] = (float) (1.0 / Math.pow(theta, 2.0 * i / dims));
        return f;
    }

    /**
     * Llama 3 ("llama3" rope_scaling): wavelengths longer than {@code originalContext / low} are divided by
     * {@code factor}, shorter than {@code originalContext / high} kept, and smoothly interpolated between.
     */
    public static float[] invFreqLlama3(double theta, int dims, double factor, double low, double high, int originalContext) {
        float[] f = new float[dims / 2];
        double lowWavelen = originalContext / low, highWavelen = originalContext / high;
        for (int i = 0; i < f.length; i++) {
            double inv = 1.0 / Math.pow(theta, 2.0 * i / dims);
            double wavelen = 2 * Math.PI / inv;
            if (wavelen > lowWavelen) {
                inv = inv / factor;
            } else if (wavelen >= highWavelen) {
                double smooth = (originalContext / wavelen - low) / (high - low);
                inv = (1 - smooth) * inv / factor + smooth * inv;
            }
            f[i] = (float) inv;
        }
        return f;
    }

    /** Rotates one head vector in place at position {@code pos}. */
    public static void rotate(float[] x, int off, int rotDim, int pairing, int pos, float[] invFreq) {
        int half = rotDim / 2;
        for (int i = 0; i < half; i++) {
            double angle = (float) (pos * invFreq[i]);  // the kernel forms the angle in float
            double c = Math.cos(angle), s = Math.sin(angle);
            int a = pairing == ADJACENT ? off + 2 * i : off + i;
            int b = pairing == ADJACENT ? off + 2 * i + 1 : off + i + half;
            double x0 = x[a], x1 = x[b];
            x[a] = (float) (x0 * c - x1 * s);
            x[b] = (float) (x0 * s + x1 * c);
        }
    }

    /**
     * The whole kernel: rotates q and k in place and writes k, v of each token to the caches
     * {@code [nSeqs][window][nKvHeads][headDim]} (slot-major) at slot {@code pos mod window} of its sequence.
     */
    public static void ropeKv(float[] q, float[] k, float[] v, float[] kCache, float[] vCache, int[] positions,
                              int[] seqSlots, float[] invFreq, int nHeads, int nKvHeads, int headDim, int rotDim,
                              int pairing, int window) {
        for (int t = 0; t < positions.length; t++) {
            int pos = positions[t];
            for (int h = 0; h < nHeads; h++) rotate(q, (t * nHeads + h) * headDim, rotDim, pairing, pos, invFreq);
            for (int g = 0; g < nKvHeads; g++) {
                int src = (t * nKvHeads + g) * headDim;
                rotate(k, src, rotDim, pairing, pos, invFreq);
                int dst = ((seqSlots[t] * window + pos % window) * nKvHeads + g) * headDim;
                System.arraycopy(k, src, kCache, dst, headDim);
                System.arraycopy(v, src, vCache, dst, headDim);
            }
        }
    }
}
