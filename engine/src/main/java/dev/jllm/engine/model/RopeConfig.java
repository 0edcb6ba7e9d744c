package dev.jllm.engine.model;

/**
 * Rotary position embedding settings.
 *
 * @param theta            base of the frequencies ({@code rope_theta}, GGUF {@code rope.freq_base})
 * @param dims             number of leading head dimensions rotated (usually the head size)
 * @param style            which dimensions form a rotated pair
 * @param scaling          frequency scaling, {@link Scaling#NONE} for none
 */
public record RopeConfig(double theta, int dims, Style style, Scaling scaling) {
    /** Which dimensions of a head are rotated together. */
    public enum Style {
        /** {@code (2i, 2i+1)}: Meta's checkpoints, llama2.c, GGUF files (llama.cpp's converter permutes HF q/k). */
        ADJACENT,
        /** {@code (i, i + d/2)}: Hugging Face Llama/Mistral/Mixtral checkpoints ("rotate_half"). */
        HALF_SPLIT
    }

    /**
     * Frequency scaling. {@code type} "none" or "llama3" (Llama 3.1's smooth interpolation between
     * {@code lowFreqFactor} and {@code highFreqFactor} wavelengths of {@code originalContext}); or explicit
     * per-pair divisors {@code freqFactors} (GGUF's {@code rope_freqs.weight}), which take precedence.
     */
    public record Scaling(String type, double factor, double lowFreqFactor, double highFreqFactor, int originalContext,
                          float[] freqFactors) {
        public static final Scaling NONE = new Scaling("none", 1, 1, 1, 0, null);

        public Scaling {
            freqFactors = freqFactors == null ? null : freqFactors.clone();
        }

        public static Scaling llama3(double factor, double low, double high, int originalContext) {
            return new Scaling("llama3", factor, low, high, originalContext, null);
        }

        public static Scaling freqFactors(float[] factors) {
            return new Scaling("freq_factors", 1, 1, 1, 0, factors);
        }

        @Override
        public float[] freqFactors() {
            return freqFactors == null ? null : freqFactors.clone();
        }
    }

    /**
     * Inverse frequencies {@code [dims/2]}: {@code theta^(-2i/dims)}, divided by the scaling's factor for pair
     * {@code i}.
     */
    public double[] inverseFrequencies() {
        double[] inv = new double[dims / 2]; // [dims / 2]
        for (int i = 0; i < dims / 2; i++) {
            inv[i] = 1.0 / Math.pow(theta, 2.0 * i / dims);
        }
        if (scaling.freqFactors != null) {
            if (scaling.freqFactors.length != dims / 2) {
                throw new IllegalArgumentException("RoPE frequency factors: expected " + dims / 2 + " values, got "
                        + scaling.freqFactors.length);
            }
            for (int i = 0; i < inv.length; i++) inv[i] /= scaling.freqFactors[i];
        } else if ("llama3".equals(scaling.type)) {
            double lowWavelen = scaling.originalContext / scaling.lowFreqFactor;
            double highWavelen = scaling.originalContext / scaling.highFreqFactor;
            for (int i = 0; i < inv.length; i++) {
                double wavelen = 2 * Math.PI / inv[i];
                if (wavelen < highWavelen) continue; // high frequencies: unchanged
                if (wavelen > lowWavelen) {
                    inv[i] /= scaling.factor;
                } else {
                    double smooth = (scaling.originalContext / wavelen - scaling.lowFreqFactor)
                            / (scaling.highFreqFactor - scaling.lowFreqFactor);
                    inv[i] = (1 - smooth) * inv[i] / scaling.factor + smooth * inv[i];
                }
            }
        } else if (!"none".equals(scaling.type)) {
            throw new IllegalArgumentException("unsupported RoPE scaling type '" + scaling.type + "'");
        }
        return inv;
    }
}
