package dev.jllm.engine.llama;

import dev.jllm.engine.kv.KvCache;
import dev.jllm.engine.model.LayerSpec;
import dev.jllm.engine.tensor.MatOps;

/**
 * The core of scaled dot-product attention over a packed batch, shared by every attention block:
 * {@code softmax(q k^T * scale + mask) v} per query head, where query head {@code h} reads KV head
 * {@code h / (nHeads / nKvHeads)}, and the mask lets a query at position {@code p} see positions
 * {@code [spec.firstVisible(p), p]} of its own sequence only.
 *
 * <p>Keys and values before the chunk come from the sequence's cache; the chunk's own come from {@code k}
 * and {@code v}, so a rolling buffer of exactly the window suffices for chunks of any length.
 * {@link #store} appends the chunk to the caches afterwards.
 *
 * <p>With an F16 cache the products take F16 inputs, as ggml computes them: the query is rounded to F16 for
 * {@code q.k}, and the softmax weights for {@code weights.v} (this reproduces llama.cpp's logits with an F16 KV
 * cache to ~1e-6).
 */
public final class Attention {
    private Attention() {
    }

    /**
     * @param q     {@code [n][nHeads * headDim]} queries (RoPE applied)
     * @param k     {@code [n][nKvHeads * headDim]} keys of the chunk (RoPE applied); rounded in place to each
     *              sequence's cache precision
     * @param v     {@code [n][nKvHeads * headDim]} values of the chunk, rounded likewise
     * @param out   {@code [n][nHeads * headDim]} attention output, overwritten
     * @param scale factor on q.k (usually {@code 1/sqrt(headDim)})
     */
    public static void attend(Batch batch, int layer, LayerSpec spec, float[] q, float[] k, float[] v, float[] out,
                              int nHeads, int nKvHeads, int headDim, float scale) {
        int n = batch.size();
        int qDim = nHeads * headDim, kvDim = nKvHeads * headDim, group = nHeads / nKvHeads;
        int maxSpan = batch.maxEnd();
        roundToCache(batch, k, v, kvDim); // the chunk's own keys/values as later tokens will read them back
        // one unit = one token's group of query heads sharing a KV head: each key and value is read once per group
        MatOps.parallelFor(n * nKvHeads, 2, (start, end) -> {
            float[] att = new float[group * maxSpan]; // [group][visible positions] scores, then weights
            for (int u = start; u < end; u++) {
                int t = u / nKvHeads, kvh = u % nKvHeads;
                Batch.Segment seg = batch.segmentOfToken(t);
                KvCache cache = seg.cache();
                int pos = batch.position(t);
                int lo = spec.firstVisible(pos);
                int qOff = t * qDim + kvh * group * headDim; // query heads kvh * group .. (kvh + 1) * group - 1
                cache.round(q, qOff, group * headDim);      // this unit's slice only: no other unit reads it
                // scores over cached positions [lo, pos0), then the chunk's own [max(lo, pos0), pos]
                int cached = Math.max(0, seg.pos0() - lo);
                if (cached > 0) cache.scores(layer, kvh, lo, seg.pos0(), q, qOff, group, scale, att, 0, maxSpan);
                int j0 = Math.max(lo, seg.pos0()) - seg.pos0();
                int j1 = pos - seg.pos0();
                int cnt = cached + (j1 - j0 + 1);
                for (int j = j0; j <= j1; j++) {
                    int kOff = (seg.start() + j) * kvDim + kvh * headDim;
                    VecOps.dotMany(q, qOff, headDim, group, k, kOff, headDim, scale, att, cached + j - j0, maxSpan);
                }
                for (int g = 0; g < group; g++) {
                    Ops.softmax(att, g * maxSpan, cnt);
                    cache.round(att, g * maxSpan, cnt);
                }
                // weighted sums of values
                java.util.Arrays.fill(out, qOff, qOff + group * headDim, 0f);
                if (cached > 0) cache.addValues(layer, kvh, lo, seg.pos0(), group, att, 0, maxSpan, out, qOff);
                int r0 = seg.start() + j0, r1 = seg.start() + j1 + 1; // the chunk's rows of v
                for (int g = 0; g < group; g++) {
                    int wBase = g * maxSpan + cached - r0, o = qOff + g * headDim;
                    int c = VecOps.weightedSumBlocks(v, kvDim, Integer.MAX_VALUE, kvh * headDim, headDim, r0, r1, att, wBase, out, o);
                    for (int r = r0; r < r1 && c < headDim; r++) {
                        VecOps.axpy(att[wBase + r], v, r * kvDim + kvh * headDim + c, out, o + c, headDim - c);
                    }
                }
            }
        });
    }

    /**
     * Rounds each segment's fresh keys and values to its cache's storage precision ({@link #attend} does it), so
     * that attending within a chunk equals attending to the same tokens read back from the cache.
     */
    public static void roundToCache(Batch batch, float[] k, float[] v, int kvDim) {
        for (Batch.Segment seg : batch.segments()) {
            seg.cache().round(k, seg.start() * kvDim, seg.length() * kvDim);
            seg.cache().round(v, seg.start() * kvDim, seg.length() * kvDim);
        }
    }

    /**
     * Appends each segment's keys and values to its cache for {@code layer} (only the last
     * {@code capacity} of them when the chunk is longer than a rolling buffer).
     */
    public static void store(Batch batch, int layer, float[] k, float[] v, int kvDim) {
        for (Batch.Segment seg : batch.segments()) {
            KvCache cache = seg.cache();
            int first = Math.max(0, seg.length() - cache.capacity(layer));
            for (int i = first; i < seg.length(); i++) {
                int off = (seg.start() + i) * kvDim;
                cache.put(layer, seg.pos0() + i, k, off, v, off);
            }
        }
    }

    /** Applies RoPE to every token's {@code q} ({@code nHeads}) and {@code k} ({@code nKvHeads}) heads. */
    public static void rope(Batch batch, Rope rope, float[] q, int nHeads, float[] k, int nKvHeads, int headDim) {
        int n = batch.size();
        MatOps.parallelFor(n, 8, (start, end) -> {
            float[] cs = new float[rope.dims()]; // [dims] cos, sin pairs
            for (int t = start; t < end; t++) {
                rope.angles(batch.position(t), cs);
                rope.rotate(q, t * nHeads * headDim, nHeads, headDim, cs);
                rope.rotate(k, t * nKvHeads * headDim, nKvHeads, headDim, cs);
            }
        });
    }
}
