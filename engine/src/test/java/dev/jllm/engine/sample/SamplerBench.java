package dev.jllm.engine.sample;

import java.util.Arrays;
import java.util.Random;

/**
 * Benchmark (not a test): median time of one sample on a 128256-token vocabulary for a few settings.
 * Run: java -cp engine/target-hf/classes:engine/target-hf/test-classes dev.jllm.engine.sample.SamplerBench
 */
public final class SamplerBench {
    public static void main(String[] args) {
        int n = 128_256;
        float[] x = new float[n];
        Random r = new Random(1);
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * 2);
        int[] history = new int[256];
        for (int i = 0; i < history.length; i++) history[i] = r.nextInt(n);
        SamplingParams[] cases = {
            SamplingParams.greedy(),
            SamplingParams.builder().temperature(0.8f).seed(1).build(),
            SamplingParams.builder().temperature(0.8f).topK(40).topP(0.95f).minP(0.05f).seed(1).build(),
            SamplingParams.builder().temperature(0.8f).topP(0.9f).seed(1).build(),
            SamplingParams.builder().temperature(0.8f).topK(40).repetitionPenalty(1.1f).penaltyLastN(256)
                    .topLogprobs(5).seed(1).build(),
        };
        for (SamplingParams p : cases) {
            Sampler s = new Sampler(p);
            long[] t = new long[200];
            for (int i = 0; i < 50; i++) s.sample(x, history, history.length);
            for (int i = 0; i < t.length; i++) {
                long t0 = System.nanoTime();
                s.sample(x, history, history.length);
                t[i] = System.nanoTime() - t0;
            }
            Arrays.sort(t);
            System.out.printf("vocab %d  median %.3f ms  %s%n", n, t[t.length / 2] / 1e6, p);
        }
    }
}
