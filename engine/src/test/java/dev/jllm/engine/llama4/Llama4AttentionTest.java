package dev.jllm.engine.llama4;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jllm.engine.kv.KvCache;
import dev.jllm.engine.kv.KvType;
import dev.jllm.engine.llama.Batch;
import dev.jllm.engine.llama.Rope;
import dev.jllm.engine.model.LayerSpec;
import dev.jllm.engine.model.LayerSpec.AttentionKind;
import dev.jllm.engine.model.LayerSpec.FfnKind;
import dev.jllm.engine.model.ModelConfig;
import dev.jllm.engine.model.RopeConfig;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link Llama4Attention} against a from-the-definition reference (full recompute, explicit masks) at awkward
 * sizes: 3 query heads on 1 KV head, head size 6, chunk 4, prefill of 11 tokens then 3 cached decode steps.
 */
class Llama4AttentionTest {
    static final double TOLERANCE = 2e-5;
    static final int DIM = 10, HEADS = 3, KV_HEADS = 1, HEAD_DIM = 6, CHUNK = 4, CONTEXT = 32;
    static final double THETA = 500000;
    static final float EPS = 1e-5f, ATTN_SCALE = 0.5f, FLOOR_SCALE = 3f;

    @Test
    void chunkedRopeLayerAndNopeLayerMatchTheDefinition() {
        List<LayerSpec> specs = List.of(
                new LayerSpec(AttentionKind.CHUNKED, CHUNK, true, FfnKind.DENSE),
                new LayerSpec(AttentionKind.GLOBAL, 0, false, FfnKind.DENSE));
        ModelConfig c = ModelConfig.builder().architecture("llama4").dim(DIM).nLayers(2).nHeads(HEADS).nKvHeads(KV_HEADS)
                .headDim(HEAD_DIM).ffnDim(8).vocabSize(10).contextLength(CONTEXT).normEps(EPS)
                .rope(new RopeConfig(THETA, HEAD_DIM, RopeConfig.Style.ADJACENT, RopeConfig.Scaling.NONE))
                .attentionChunk(CHUNK).qkNorm(true).attnTemperature(ATTN_SCALE).attnFloorScale(FLOOR_SCALE)
                .layers(specs).build();
        Random r = new Random(5);
        int total = 14, prefill = 11;
        float[][][][] w = new float[2][][][];
        Llama4Attention[] blocks = new Llama4Attention[2];
        for (int l = 0; l < 2; l++) {
            w[l] = new float[][][] {
                Llama4MoeFfnTest.random(r, HEADS * HEAD_DIM, DIM), Llama4MoeFfnTest.random(r, KV_HEADS * HEAD_DIM, DIM),
                Llama4MoeFfnTest.random(r, KV_HEADS * HEAD_DIM, DIM), Llama4MoeFfnTest.random(r, DIM, HEADS * HEAD_DIM)};
            blocks[l] = new Llama4Attention(c, specs.get(l), new Rope(c.rope()), Llama4MoeFfnTest.matrix(w[l][0]),
                    Llama4MoeFfnTest.matrix(w[l][1]), Llama4MoeFfnTest.matrix(w[l][2]), Llama4MoeFfnTest.matrix(w[l][3]));
        }
        float[] x = new float[total * DIM]; // [total][dim]
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();

        KvCache cache = KvCache.create(KvType.F32, 2, KV_HEADS * HEAD_DIM, HEAD_DIM, CONTEXT,
                new int[] {specs.get(0).cacheCapacity(CONTEXT), specs.get(1).cacheCapacity(CONTEXT)});
        float[][] got = new float[2][total * DIM];
        // prefill 11 tokens in one pass, then 3 decode steps of one token
        int[][] passes = {{0, prefill}, {11, 1}, {12, 1}, {13, 1}};
        for (int[] p : passes) {
            int from = p[0], n = p[1];
            int[] tokens = new int[n];
            Batch batch = new Batch(List.of(new Batch.Segment(cache, 0, n, from)), tokens);
            float[] xs = java.util.Arrays.copyOfRange(x, from * DIM, (from + n) * DIM);
            for (int l = 0; l < 2; l++) {
                float[] out = new float[n * DIM];
                blocks[l].forward(batch, l, xs, out);
                System.arraycopy(out, 0, got[l], from * DIM, n * DIM);
            }
            cache.advance(n);
        }
        for (int l = 0; l < 2; l++) {
            double[][] expected = reference(w[l], x, total, specs.get(l));
            for (int t = 0; t < total; t++) {
                for (int d = 0; d < DIM; d++) {
                    assertEquals(expected[t][d], got[l][t * DIM + d], TOLERANCE, "layer " + l + " pos " + t + " dim " + d);
                }
            }
        }
    }

    /** Attention of every position, recomputed from scratch as the Llama 4 reference code defines it. */
    static double[][] reference(float[][][] w, float[] x, int total, LayerSpec spec) {
        double[][] q = new double[total][], k = new double[total][], v = new double[total][];
        for (int t = 0; t < total; t++) {
            double[] xt = new double[DIM];
            for (int d = 0; d < DIM; d++) xt[d] = x[t * DIM + d];
            q[t] = Llama4MoeFfnTest.mul(w[0], xt);
            k[t] = Llama4MoeFfnTest.mul(w[1], xt);
            v[t] = Llama4MoeFfnTest.mul(w[2], xt);
            if (spec.rope()) {
                rotateAdjacent(q[t], HEADS, t);
                rotateAdjacent(k[t], KV_HEADS, t);
                rmsNormHeads(q[t], HEADS);   // QK-norm after RoPE, RoPE layers only
                rmsNormHeads(k[t], KV_HEADS);
            } else {
                double s = 1 + ATTN_SCALE * Math.log1p(Math.floor((t + 1.0) / FLOOR_SCALE));
                for (int i = 0; i < q[t].length; i++) q[t][i] *= s;
            }
        }
        double[][] out = new double[total][];
        for (int t = 0; t < total; t++) {
            int lo = spec.rope() ? t / CHUNK * CHUNK : 0; // chunked: own chunk only; NoPE layer: global
            double[] att = new double[HEADS * HEAD_DIM];
            for (int h = 0; h < HEADS; h++) {
                int kvh = h / (HEADS / KV_HEADS);
                double[] s = new double[t - lo + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = lo; j <= t; j++) {
                    double dot = 0;
                    for (int i = 0; i < HEAD_DIM; i++) dot += q[t][h * HEAD_DIM + i] * k[j][kvh * HEAD_DIM + i];
                    s[j - lo] = dot / Math.sqrt(HEAD_DIM);
                    max = Math.max(max, s[j - lo]);
                }
                double z = 0;
                for (int j = 0; j < s.length; j++) z += s[j] = Math.exp(s[j] - max);
                for (int j = lo; j <= t; j++) {
                    for (int i = 0; i < HEAD_DIM; i++) att[h * HEAD_DIM + i] += s[j - lo] / z * v[j][kvh * HEAD_DIM + i];
                }
            }
            out[t] = Llama4MoeFfnTest.mul(w[3], att);
        }
        return out;
    }

    static void rotateAdjacent(double[] v, int heads, int pos) {
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < HEAD_DIM / 2; i++) {
                double a = pos * Math.pow(THETA, -2.0 * i / HEAD_DIM);
                int o = h * HEAD_DIM + 2 * i;
                double x0 = v[o], x1 = v[o + 1];
                v[o] = x0 * Math.cos(a) - x1 * Math.sin(a);
                v[o + 1] = x0 * Math.sin(a) + x1 * Math.cos(a);
            }
        }
    }

    static void rmsNormHeads(double[] v, int heads) {
        for (int h = 0; h < heads; h++) {
            double ss = 0;
            for (int i = 0; i < HEAD_DIM; i++) ss += v[h * HEAD_DIM + i] * v[h * HEAD_DIM + i];
            double s = 1 / Math.sqrt(ss / HEAD_DIM + EPS);
            for (int i = 0; i < HEAD_DIM; i++) v[h * HEAD_DIM + i] *= s;
        }
    }

    @Test
    void temperatureScaleByHand() {
        // floor_scale 8, attn_scale 0.1: positions 0..6 -> floor(<1) = 0 -> 1; position 7 -> floor(1) -> 1 + 0.1 ln 2
        assertEquals(1.0f, Llama4Attention.temperatureScale(0, 0.1f, 8f));
        assertEquals(1.0f, Llama4Attention.temperatureScale(6, 0.1f, 8f));
        assertEquals(1.0693147f, Llama4Attention.temperatureScale(7, 0.1f, 8f), 1e-7f);
        assertEquals(1.1098612f, Llama4Attention.temperatureScale(15, 0.1f, 8f), 1e-7f); // floor(16/8) = 2: 1 + 0.1 ln 3
        assertEquals(1.1386294f, Llama4Attention.temperatureScale(23, 0.1f, 8f), 1e-7f); // floor(24/8) = 3: 1 + 0.1 ln 4
    }
}
