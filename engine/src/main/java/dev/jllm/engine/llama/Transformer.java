package dev.jllm.engine.llama;

import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.SequenceChunk;
import dev.jllm.engine.kv.KvCache;
import dev.jllm.engine.kv.KvCacheOptions;
import dev.jllm.engine.model.ModelConfig;
import dev.jllm.engine.tensor.MatOps;
import dev.jllm.engine.tensor.WeightMatrix;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;

/**
 * A decoder-only transformer on the CPU: token embedding, pre-norm {@link Layer}s, final RMSNorm, output
 * projection. The layers' blocks carry the architecture differences; this class only runs them in order over a
 * packed {@link Batch}.
 */
public final class Transformer implements LanguageModel {
    private final ModelConfig config;
    private final WeightMatrix embedding;  // [vocab, dim]
    private final List<Layer> layers;
    private final float[] outputNorm;      // [dim]
    private final WeightMatrix output;     // [vocab, dim]
    private final int prefillChunk;
    private final long weightBytes;
    private final AutoCloseable resources;
    private final Object lock = new Object();

    /**
     * @param prefillChunk most tokens of one sequence per pass (longer chunks run in rounds)
     * @param weightBytes  bytes of weights read per token (for bandwidth figures)
     * @param resources    closed with the model (the mapped files), may be null
     */
    public Transformer(ModelConfig config, WeightMatrix embedding, List<Layer> layers, float[] outputNorm,
                       WeightMatrix output, int prefillChunk, long weightBytes, AutoCloseable resources) {
        this.config = Objects.requireNonNull(config, "config");
        this.embedding = Objects.requireNonNull(embedding, "embedding");
        this.layers = List.copyOf(layers);
        this.outputNorm = Objects.requireNonNull(outputNorm, "outputNorm");
        this.output = Objects.requireNonNull(output, "output");
        if (this.layers.size() != config.nLayers()) {
            throw new IllegalArgumentException(this.layers.size() + " layers for a config of " + config.nLayers());
        }
        if (prefillChunk <= 0) throw new IllegalArgumentException("prefill chunk must be > 0");
        this.prefillChunk = prefillChunk;
        this.weightBytes = weightBytes;
        this.resources = resources;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public String backend() {
        return "cpu";
    }

    public int prefillChunk() {
        return prefillChunk;
    }

    @Override
    public long weightBytes() {
        return weightBytes;
    }

    @Override
    public KvCache newCache(KvCacheOptions options) {
        int ctx = options.maxContext() == 0 ? config.contextLength() : options.maxContext();
        int[] cap = new int[config.nLayers()];
        for (int l = 0; l < cap.length; l++) cap[l] = config.layer(l).cacheCapacity(ctx);
        return KvCache.create(options.type(), config.nLayers(), config.kvDim(), config.headDim(), ctx, cap);
    }

    @Override
    public float[][] forward(List<SequenceChunk> chunks) {
        validate(chunks);
        float[][] result = new float[chunks.size()][];
        synchronized (lock) {
            // rounds: round r takes tokens [r * chunk, (r + 1) * chunk) of every sequence that has them
            int rounds = 0;
            for (SequenceChunk c : chunks) rounds = Math.max(rounds, (c.length() + prefillChunk - 1) / prefillChunk);
            for (int r = 0; r < rounds; r++) {
                List<Integer> members = new ArrayList<>();
                List<Batch.Segment> segs = new ArrayList<>();
                int total = 0;
                for (int i = 0; i < chunks.size(); i++) {
                    SequenceChunk c = chunks.get(i);
                    int from = r * prefillChunk;
                    if (from >= c.length()) continue;
                    int len = Math.min(prefillChunk, c.length() - from);
                    segs.add(new Batch.Segment(c.cache(), total, len, c.cache().length()));
                    members.add(i);
                    total += len;
                }
                int[] tokens = new int[total];
                for (int s = 0; s < segs.size(); s++) {
                    SequenceChunk c = chunks.get(members.get(s));
                    System.arraycopy(c.tokens(), r * prefillChunk, tokens, segs.get(s).start(), segs.get(s).length());
                }
                // logits rows: the last token of each segment that finishes its chunk this round and asked
                List<Integer> rows = new ArrayList<>();
                List<Integer> owners = new ArrayList<>();
                for (int s = 0; s < segs.size(); s++) {
                    SequenceChunk c = chunks.get(members.get(s));
                    boolean last = r * prefillChunk + segs.get(s).length() == c.length();
                    if (last && c.wantLogits()) {
                        rows.add(segs.get(s).start() + segs.get(s).length() - 1);
                        owners.add(members.get(s));
                    }
                }
                float[][] logits = run(new Batch(segs, tokens), rows.stream().mapToInt(Integer::intValue).toArray());
                for (int j = 0; j < owners.size(); j++) result[owners.get(j)] = logits[j];
            }
        }
        return result;
    }

    @Override
    public float[][] forwardAll(KvCache cache, int[] tokens) {
        validate(List.of(new SequenceChunk(cache, tokens, true)));
        float[][] all = new float[tokens.length][];
        synchronized (lock) {
            for (int from = 0; from < tokens.length; from += prefillChunk) {
                int len = Math.min(prefillChunk, tokens.length - from);
                int[] part = java.util.Arrays.copyOfRange(tokens, from, from + len);
                int[] rows = new int[len];
                for (int i = 0; i < len; i++) rows[i] = i;
                float[][] l = run(new Batch(List.of(new Batch.Segment(cache, 0, len, cache.length())), part), rows);
                System.arraycopy(l, 0, all, from, len);
            }
        }
        return all;
    }

    private void validate(List<SequenceChunk> chunks) {
        if (chunks.isEmpty()) throw new IllegalArgumentException("no sequences to run");
        IdentityHashMap<KvCache, Boolean> seen = new IdentityHashMap<>();
        for (SequenceChunk c : chunks) {
            KvCache cache = c.cache();
            if (seen.put(cache, true) != null) {
                throw new IllegalArgumentException("the same KV cache appears twice in one pass");
            }
            if (cache.layers() != config.nLayers() || cache.kvDim() != config.kvDim()) {
                throw new IllegalArgumentException("KV cache shape " + cache + " does not fit this model");
            }
            cache.checkRoom(c.length());
            for (int i = 0; i < c.length(); i++) {
                int tok = c.token(i);
                if (tok < 0 || tok >= config.vocabSize()) {
                    throw new IllegalArgumentException("token id " + tok + " at index " + i + " is outside the vocabulary [0, "
                            + config.vocabSize() + ")");
                }
            }
        }
    }

    /**
     * One pass over {@code batch}; returns {@code [rows.length][vocab]} logits for the given token rows.
     */
    private float[][] run(Batch batch, int[] rows) {
        int n = batch.size(), dim = config.dim();
        float[] x = new float[n * dim];   // [n][dim] residual stream
        float[] xb = new float[n * dim];  // [n][dim] normalized
        float[] out = new float[n * dim]; // [n][dim] block output
        for (int t = 0; t < n; t++) embedding.row(batch.token(t), x, t * dim);
        for (int l = 0; l < layers.size(); l++) {
            Layer layer = layers.get(l);
            Ops.rmsnorm(xb, x, layer.attnNorm(), n, dim, config.normEps());
            layer.attention().forward(batch, l, xb, out);
            Ops.add(x, out, n * dim);
            Ops.rmsnorm(xb, x, layer.ffnNorm(), n, dim, config.normEps());
            layer.ffn().forward(n, xb, out);
            Ops.add(x, out, n * dim);
        }
        for (Batch.Segment s : batch.segments()) s.cache().advance(s.length());
        return logits(x, rows);
    }

    /** Final norm and output projection of the given rows of {@code x} ({@code [n][dim]}). */
    private float[][] logits(float[] x, int[] rows) {
        int m = rows.length, dim = config.dim(), vocab = config.vocabSize();
        float[][] result = new float[m][];
        if (m == 0) return result;
        float[] xs = new float[m * dim]; // [m][dim]
        for (int i = 0; i < m; i++) System.arraycopy(x, rows[i] * dim, xs, i * dim, dim);
        Ops.rmsnorm(xs, xs, outputNorm, m, dim, config.normEps());
        float[] logits = new float[m * vocab]; // [m][vocab]
        MatOps.matmul(output, xs, m, logits);
        for (int i = 0; i < m; i++) result[i] = java.util.Arrays.copyOfRange(logits, i * vocab, (i + 1) * vocab);
        return result;
    }

    @Override
    public void close() {
        if (resources != null) {
            try {
                resources.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing model resources", e);
            }
        }
    }
}
