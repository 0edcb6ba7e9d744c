package dev.jllm.cuda.ref;

/**
 * CPU twin of {@code sampling.cu}: greedy argmax, and temperature / top-k / top-p sampling driven by the
 * counter-based generator {@code u = splitmix64(seed + counter * 0x9E3779B97F4A7C15) >>> 40, / 2^24}, so
 * the device and this code pick the same token for the same {seed, counter}.
 */
public final class SamplingRef {
    public static final int MAX_K = 256;
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private SamplingRef() {
    }

    /** Lowest index of the largest value. */
    public static int argmax(float[] logits, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (logits[off + i] > logits[off + best]) best = i;
        return best;
    }

    public static long splitmix64(long z) {
        z += GOLDEN;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The uniform in [0, 1) (24 bits) the kernel draws for {seed, counter}. */
    public static float uniform(long seed, long counter) {
        return (splitmix64(seed + counter * GOLDEN) >>> 40) * (1f / 16777216f);
    }

    /** The token the kernel samples for {seed, counter} (float arithmetic in the kernel's order). */
    public static int sample(float[] logits, float temperature, int topK, float topP, long seed, long counter) {
        int n = logits.length;
        int k = topK <= 0 ? MAX_K : Math.min(topK, MAX_K);
        k = Math.min(k, n);
        if (temperature <= 0f) k = 1;
        int[] idx = new int[k];
        float[] val = new float[k];
        boolean[] taken = new boolean[n];
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int i = 0; i < n; i++) if (!taken[i] && (best < 0 || logits[i] > logits[best])) best = i;
            taken[best] = true;
            idx[j] = best;
            val[j] = logits[best];
        }
        if (k == 1) return idx[0];
        float invT = 1f / temperature;
        float total = 0f;
        float top = val[0];
        for (int j = 0; j < k; j++) {
            val[j] = (float) Math.exp((val[j] - top) * invT);
            total += val[j];
        }
        int kept = k;
        float mass = 0f;
        for (int j = 0; j < k; j++) {
            mass += val[j] / total;
            if (mass >= topP) {
                kept = j + 1;
                break;
            }
        }
        float keptMass = 0f;
        for (int j = 0; j < kept; j++) keptMass += val[j];
        float u = uniform(seed, counter) * keptMass;
        float cum = 0f;
        for (int j = 0; j < kept; j++) {
            cum += val[j];
            if (cum > u) return idx[j];
        }
        return idx[kept - 1];
    }
}
