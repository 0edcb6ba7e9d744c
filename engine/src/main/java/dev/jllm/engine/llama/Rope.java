package dev.jllm.engine.llama;

import dev.jllm.engine.model.RopeConfig;

/**
 * Rotary position embedding: rotates pairs of a head's dimensions by {@code pos * invFreq[i]}.
 * {@link RopeConfig.Style#ADJACENT} pairs {@code (2i, 2i+1)}; {@link RopeConfig.Style#HALF_SPLIT} pairs
 * {@code (i, i + dims/2)}. Angles are computed in double from absolute positions.
 */
public final class Rope {
    private final int dims;
    private final boolean halfSplit;
    private final double[] invFreq; // [dims / 2]

    public Rope(RopeConfig cfg) {
        this.dims = cfg.dims();
        this.halfSplit = cfg.style() == RopeConfig.Style.HALF_SPLIT;
        this.invFreq = cfg.inverseFrequencies();
    }

    /** Cosines and sines for {@code pos}: {@code cs[2i] = cos, cs[2i+1] = sin}, {@code [dims]}. */
    public void angles(int pos, float[] cs) {
        for (int i = 0; i < dims / 2; i++) {
            double a = pos * invFreq[i];
            cs[2 * i] = (float) Math.cos(a);
            cs[2 * i + 1] = (float) Math.sin(a);
        }
    }

    /** Rotates {@code nHeads} heads of {@code headDim} at {@code v[off ..]} with angles from {@link #angles}. */
    public void rotate(float[] v, int off, int nHeads, int headDim, float[] cs) {
        int half = dims / 2;
        for (int h = 0; h < nHeads; h++) {
            int o = off + h * headDim;
            for (int i = 0; i < half; i++) {
                int a = halfSplit ? o + i : o + 2 * i;
                int b = halfSplit ? o + i + half : o + 2 * i + 1;
                float c = cs[2 * i], s = cs[2 * i + 1];
                float x0 = v[a], x1 = v[b];
                v[a] = x0 * c - x1 * s;
                v[b] = x0 * s + x1 * c;
            }
        }
    }

    public int dims() {
        return dims;
    }
}
