package dev.jllm.cuda.model;

import dev.jllm.cuda.ffm.CudaDevice;
import dev.jllm.cuda.ffm.DeviceBuffer;
import dev.jllm.cuda.ffm.PinnedBuffer;
import dev.jllm.cuda.kernels.CudaKernels;
import dev.jllm.cuda.kernels.DeviceLayout;
import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.SequenceChunk;
import dev.jllm.engine.kv.KvCache;
import dev.jllm.engine.kv.KvCacheOptions;
import dev.jllm.engine.kv.KvType;
import dev.jllm.engine.model.GgufTensorNames;
import dev.jllm.engine.model.LayerSpec;
import dev.jllm.engine.model.ModelConfig;
import dev.jllm.engine.model.RopeConfig;
import dev.jllm.gguf.GgmlType;
import dev.jllm.gguf.GgufFile;
import dev.jllm.gguf.TensorInfo;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.jllm.engine.model.GgufTensorNames.Layer.*;

/**
 * A Llama-family model (dense SwiGLU or Mixtral MoE layers; global or sliding-window attention) whose
 * weights, activations and KV caches live on one CUDA device; every step of the forward pass is a kernel
 * of {@code jllm-kernels.fatbin}. Weights are uploaded once at load, in the kernels' device layout.
 *
 * <p>Tokens run in sub-chunks of at most {@link #step} tokens per sequence. A rolling (sliding-window)
 * layer whose buffer has wrapped takes one token per sub-chunk, so that no key a query of the sub-chunk
 * still needs is overwritten before it is read.
 */
public final class CudaLanguageModel implements LanguageModel {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** One weight matrix on the device. */
    record Matrix(DeviceBuffer data, GgmlType type, int rows, int cols) {
    }

    /** One layer's weights; the MoE fields are null for a dense layer and the dense ones for a MoE layer. */
    record Layer(LayerSpec spec, DeviceBuffer attnNorm, Matrix wq, Matrix wk, Matrix wv, Matrix wo, DeviceBuffer ffnNorm,
                 Matrix w1, Matrix w2, Matrix w3, Matrix router, Matrix w1Experts, Matrix w2Experts, Matrix w3Experts) {
    }

    private final ModelConfig c;
    private final CudaDevice dev;
    private final CudaKernels k;
    private final long stream;
    /** Pipeline stages (-Djllm.cuda.stages=N): layer l runs on streams[l * N / nLayers], handed over by events. */
    private final long[] stages;
    private final long[] handover;  // [stages] events: stage s done
    private long st;  // the stream the forward pass is enqueuing on (forward is synchronized)
    private final int step;
    private final long weightBytes;
    private final Matrix embedding, output;
    private final DeviceBuffer outputNorm, invFreq;
    private final List<Layer> layers;
    private final PinnedBuffer staging;
    private final List<CudaKvCache> caches = new ArrayList<>();
    // activations, [step][...]
    private final DeviceBuffer ids, positions, seqSlots, x, h, q, kk, vv, att, o, g, u, d, logits, partO, partMl, splitCounters;
    private final DeviceBuffer routerLogits, expertIds, gateWeights, eg, eu, ed;
    private final int maxSplits;
    /** Decode steps as CUDA graphs, per cache (and its storage generation); least recently used dropped. */
    private final boolean useGraphs = !Boolean.getBoolean("jllm.cuda.nographs");
    private final java.util.LinkedHashMap<CudaKvCache, DecodeGraph> graphs = new java.util.LinkedHashMap<>(16, 0.75f, true);
    private static final int MAX_GRAPHS = 64;

    private record DecodeGraph(int generation, CudaDevice.CudaGraph graph) {
    }

    /** Uploads the weights of {@code f} (already checked by {@code config}) to {@code dev}. */
    public CudaLanguageModel(CudaDevice dev, GgufFile f, ModelConfig c, int prefillChunk) {
        this.c = c;
        this.dev = dev;
        this.k = new CudaKernels(dev);
        this.stream = dev.createStream();
        int nStages = Math.max(1, Math.min(c.nLayers(), Integer.getInteger("jllm.cuda.stages", 1)));
        this.stages = new long[nStages];
        this.handover = new long[nStages];
        for (int i = 0; i < nStages; i++) {
            stages[i] = i == 0 ? stream : dev.createStream();
            handover[i] = dev.createEvent();
        }
        this.st = stream;
        this.step = Math.max(1, prefillChunk);
        this.staging = dev.memory().allocatePinned("upload staging", 16L << 20);
        for (int l = 0; l < c.nLayers(); l++) {
            LayerSpec s = c.layer(l);
            if (s.attention() == LayerSpec.AttentionKind.CHUNKED || !s.rope() || s.ffn() == LayerSpec.FfnKind.MOE_SHARED || c.qkNorm()) {
                throw new IllegalArgumentException("layer " + l + " (" + s + ") of " + c.architecture()
                        + ": chunked attention, NoPE, QK-norm and shared-expert MoE (Llama 4) have no CUDA path yet");
            }
        }
        if (c.headDim() > CudaKernels.MAX_HEAD_DIM) throw new IllegalArgumentException("head_dim " + c.headDim() + " > " + CudaKernels.MAX_HEAD_DIM);
        long[] bytes = {0};
        embedding = matrix(f, GgufTensorNames.TOKEN_EMBD, c.vocabSize(), c.dim(), bytes);
        output = c.tiedEmbeddings() ? embedding : matrix(f, GgufTensorNames.OUTPUT, c.vocabSize(), c.dim(), bytes);
        outputNorm = vector(f, GgufTensorNames.OUTPUT_NORM, c.dim());
        List<Layer> ls = new ArrayList<>();
        for (int l = 0; l < c.nLayers(); l++) {
            LayerSpec s = c.layer(l);
            boolean moe = s.ffn() == LayerSpec.FfnKind.MOE;
            int e = c.nExperts(), hidden = c.expertFfnDim();
            ls.add(new Layer(s, vector(f, ATTN_NORM.of(l), c.dim()),
                    matrix(f, WQ.of(l), c.qDim(), c.dim(), bytes), matrix(f, WK.of(l), c.kvDim(), c.dim(), bytes),
                    matrix(f, WV.of(l), c.kvDim(), c.dim(), bytes), matrix(f, WO.of(l), c.dim(), c.qDim(), bytes),
                    vector(f, FFN_NORM.of(l), c.dim()),
                    moe ? null : matrix(f, W1.of(l), c.ffnDim(), c.dim(), bytes),
                    moe ? null : matrix(f, W2.of(l), c.dim(), c.ffnDim(), bytes),
                    moe ? null : matrix(f, W3.of(l), c.ffnDim(), c.dim(), bytes),
                    moe ? matrix(f, ROUTER.of(l), e, c.dim(), bytes) : null,
                    moe ? experts(f, W1_EXPERTS.of(l), e, hidden, c.dim(), bytes) : null,
                    moe ? experts(f, W2_EXPERTS.of(l), e, c.dim(), hidden, bytes) : null,
                    moe ? experts(f, W3_EXPERTS.of(l), e, hidden, c.dim(), bytes) : null));
        }
        layers = List.copyOf(ls);
        weightBytes = bytes[0];
        RopeConfig rope = c.rope();
        double[] inv = rope.inverseFrequencies();  // [dims / 2]
        float[] invF = new float[inv.length];
        for (int i = 0; i < inv.length; i++) invF[i] = (float) inv[i];
        invFreq = upload("inv_freq", MemorySegment.ofArray(invF));
        int maxSpan = 1;
        for (int l = 0; l < c.nLayers(); l++) maxSpan = Math.max(maxSpan, span(l, c.contextLength()));
        maxSplits = CudaKernels.decodeMaxSplits(maxSpan);  // a cache of a shorter context may need more splits
        k.reserveDecodeSpan(c.headDim(), maxSpan);
        ids = act("ids", 1);
        positions = act("positions", 1);
        seqSlots = act("seq slots", 1);
        x = act("x", c.dim()); h = act("h", c.dim()); q = act("q", c.qDim()); kk = act("k", c.kvDim()); vv = act("v", c.kvDim());
        att = act("att", c.qDim()); o = act("o", c.dim());
        int ffn = Math.max(c.ffnDim(), 1);
        g = act("g", ffn); u = act("u", ffn); d = act("d", c.dim());
        logits = dev.memory().allocate("logits", 4L * c.vocabSize());  // one token's at a time
        partO = dev.memory().allocate("attn part_o", 4L * c.nHeads() * maxSplits * c.headDim());
        partMl = dev.memory().allocate("attn part_ml", 8L * c.nHeads() * maxSplits);
        splitCounters = k.decodeCounters(1, c.nHeads(), stream);
        int e = Math.max(1, c.nExperts()), topK = Math.max(1, c.nExpertsUsed()), hidden = Math.max(1, c.expertFfnDim());
        routerLogits = act("router logits", e);
        expertIds = act("expert ids", topK);
        gateWeights = act("gate weights", topK);
        eg = dev.memory().allocate("expert gate", 4L * topK * hidden);
        eu = dev.memory().allocate("expert up", 4L * topK * hidden);
        ed = dev.memory().allocate("expert down", 4L * topK * c.dim());
        dev.synchronize(stream);
    }

    private DeviceBuffer act(String name, int width) {
        return dev.memory().allocate(name, 4L * step * width);
    }

    private DeviceBuffer upload(String label, MemorySegment src) {
        DeviceBuffer b = dev.memory().allocate(label, Math.max(16, src.byteSize()));
        dev.upload(b, 0, src, staging, stream);
        return b;
    }

    private static void expectShape(TensorInfo t, long... ne) {
        long[] s = t.shape();
        int rank = s.length;
        while (rank > ne.length && s[rank - 1] == 1) rank--;
        if (!Arrays.equals(Arrays.copyOf(s, rank), ne)) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' has shape " + Arrays.toString(s) + ", expected " + Arrays.toString(ne));
        }
    }

    private Matrix matrix(GgufFile f, String name, int rows, int cols, long[] bytes) {
        TensorInfo t = f.tensor(name);
        expectShape(t, cols, rows);
        DeviceLayout.check(name, t.type(), rows, cols);
        bytes[0] += t.byteSize();
        return new Matrix(deviceLayout(name, t.type(), rows, cols, f.data(t), 1), t.type(), rows, cols);
    }

    /** A 3-D expert tensor {@code [n][rows][cols]}: each expert's matrix in device layout, one after another. */
    private Matrix experts(GgufFile f, String name, int n, int rows, int cols, long[] bytes) {
        TensorInfo t = f.tensor(name);
        expectShape(t, cols, rows, n);
        DeviceLayout.check(name, t.type(), rows, cols);
        bytes[0] += t.byteSize();
        return new Matrix(deviceLayout(name, t.type(), rows, cols, f.data(t), n), t.type(), rows, cols);
    }

    private DeviceBuffer deviceLayout(String name, GgmlType type, int rows, int cols, MemorySegment ggml, int count) {
        long each = DeviceLayout.bytes(type, rows, cols);
        long stride = count == 1 ? each : DeviceLayout.expertStride(type, rows, cols);  // GGUF packs them `each` apart
        DeviceBuffer b = dev.memory().allocate(name, Math.max(16, stride * (count - 1) + each));
        try (Arena a = Arena.ofShared()) {  // filled here, read by the CUDA thread
            MemorySegment tmp = a.allocate(each, 16);
            for (int e = 0; e < count; e++) {
                DeviceLayout.repack(type, rows, cols, ggml.asSlice(e * each, each), tmp);
                dev.upload(b, e * stride, tmp, staging, stream);
            }
        }
        return b;
    }

    /** A 1-D F32/F16/BF16 tensor as a device f32 vector. */
    private DeviceBuffer vector(GgufFile f, String name, int n) {
        TensorInfo t = f.tensor(name);
        expectShape(t, n);
        MemorySegment s = f.data(t);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = switch (t.type()) {
                case F32 -> s.get(F32_LE, 4L * i);
                case F16 -> Float.float16ToFloat(s.get(I16_LE, 2L * i));
                case BF16 -> Float.intBitsToFloat((s.get(I16_LE, 2L * i) & 0xFFFF) << 16);
                default -> throw new IllegalArgumentException("tensor '" + name + "' should be F32/F16/BF16, is " + t.type());
            };
        }
        return upload(name, MemorySegment.ofArray(v));
    }

    /** Positions a query of layer {@code l} sees (itself included), given the cache's context. */
    private int span(int l, int maxContext) {
        LayerSpec s = c.layer(l);
        int cap = s.cacheCapacity(maxContext);
        return s.attention() == LayerSpec.AttentionKind.SLIDING ? Math.min(s.window(), cap) : cap;
    }

    @Override
    public ModelConfig config() {
        return c;
    }

    @Override
    public String backend() {
        return "cuda";
    }

    @Override
    public KvCache newCache(KvCacheOptions options) {
        if (options.type() != KvType.F32) throw new IllegalArgumentException("the CUDA backend keeps F32 KV caches; " + options.type() + " asked for");
        int ctx = options.maxContext() > 0 ? options.maxContext() : c.contextLength();
        if (ctx > c.contextLength()) throw new IllegalArgumentException("context " + ctx + " exceeds the model's " + c.contextLength());
        int[] cap = new int[c.nLayers()];
        for (int l = 0; l < cap.length; l++) cap[l] = c.layer(l).cacheCapacity(ctx);
        return new CudaKvCache(dev, c.nLayers(), c.kvDim(), c.headDim(), ctx, cap, this::register);
    }

    private synchronized void register(CudaKvCache cache) {
        caches.add(cache);
    }

    @Override
    public KvCache readCache(InputStream in) throws IOException {
        KvCache cpu = LanguageModel.super.readCache(in);
        CudaKvCache cache = (CudaKvCache) newCache(new KvCacheOptions(KvType.F32, cpu.maxContext()));
        if (cpu.type() != KvType.F32) throw new IOException("the CUDA backend restores F32 caches only, this one is " + cpu.type());
        cache.copyFrom(cpu);
        return cache;
    }

    @Override
    public synchronized float[][] forward(List<SequenceChunk> chunks) {
        float[][] out = new float[chunks.size()][];
        for (int i = 0; i < chunks.size(); i++) {
            SequenceChunk ch = chunks.get(i);
            float[][] l = run(cudaCache(ch.cache()), ch.tokens(), false);
            out[i] = ch.wantLogits() ? l[0] : null;
        }
        return out;
    }

    @Override
    public synchronized float[][] forwardAll(KvCache cache, int[] tokens) {
        return run(cudaCache(cache), tokens, true);
    }

    private CudaKvCache cudaCache(KvCache cache) {
        if (cache instanceof CudaKvCache cc) return cc;
        throw new IllegalArgumentException("a " + cache.type() + " cache of another backend was passed to the CUDA model: use its newCache()/readCache()");
    }

    /** Runs {@code tokens} through {@code cache}; the logits of the last token, or of every token when {@code all}. */
    private float[][] run(CudaKvCache cache, int[] tokens, boolean all) {
        cache.checkRoom(tokens.length);
        float[][] result = all ? new float[tokens.length][] : new float[1][];
        int done = 0;
        while (done < tokens.length) {
            int p0 = cache.length();
            int n = Math.min(tokens.length - done, step);
            for (int l = 0; l < c.nLayers(); l++) {
                if (cache.rolling(l)) n = Math.min(n, Math.max(1, cache.capacity(l) - p0));
            }
            dev.synchronize(stream);
            cache.reserve(p0, n);
            int[] pos = new int[n];
            for (int t = 0; t < n; t++) pos[t] = p0 + t;
            dev.upload(ids, 0, MemorySegment.ofArray(Arrays.copyOfRange(tokens, done, done + n)), staging, stream);
            dev.upload(positions, 0, MemorySegment.ofArray(pos), staging, stream);
            dev.upload(seqSlots, 0, MemorySegment.ofArray(new int[n]), staging, stream);
            if (n == 1 && useGraphs) launchDecodeGraph(cache);
            else enqueue(cache, p0, n, false);
            boolean last = done + n == tokens.length;
            if (all) {
                for (int t = 0; t < n; t++) result[done + t] = logitsOf(t);
            } else if (last) {
                result[0] = logitsOf(n - 1);
            }
            cache.advance(n);
            done += n;
        }
        return result;
    }

    /**
     * One decode step through a CUDA graph: captured once per cache (again after its storage moved), then
     * replayed; the token and position it reads are uploaded to device memory before each replay.
     */
    private void launchDecodeGraph(CudaKvCache cache) {
        DecodeGraph g = graphs.get(cache);
        if (g == null || g.generation() != cache.generation()) {
            if (g != null) dev.destroyGraph(g.graph());
            g = new DecodeGraph(cache.generation(), dev.capture(stream, () -> enqueue(cache, 0, 1, true)));
            graphs.put(cache, g);
            if (graphs.size() > MAX_GRAPHS) {
                var eldest = graphs.entrySet().iterator().next();
                dev.destroyGraph(eldest.getValue().graph());
                graphs.remove(eldest.getKey());
            }
        }
        dev.launchGraph(g.graph(), stream);
    }

    /**
     * The forward pass of {@code n} tokens at positions {@code [p0, p0 + n)}, up to the final norm (in h).
     * {@code forGraph}: the launches must not depend on {@code p0} (decode attention covers the whole span
     * and reads the position from device memory).
     */
    private void enqueue(CudaKvCache cache, int p0, int n, boolean forGraph) {
        float scale = (float) (1 / Math.sqrt(c.headDim()));
        int ropeDims = c.rope().dims();
        int pairing = c.rope().style() == RopeConfig.Style.ADJACENT ? 0 : 1;
        st = stream;
        k.embedding(embedding.data(), embedding.type(), c.vocabSize(), c.dim(), ids, x, n, st);
        for (int l = 0; l < c.nLayers(); l++) {
            Layer ly = layers.get(l);
            moveToStage(l * stages.length / c.nLayers());
            int cap = cache.capacity(l), span = span(l, cache.maxContext());
            DeviceBuffer kc = cache.keys(l), vc = cache.values(l);
            // attention block: x += wo . attention(rope(wq h), rope(wk h), wv h), h = rmsnorm(x)
            // (for one token the norm is applied by each product as it stages its input; see CudaKernels.Input)
            CudaKernels.Input attnIn = k.normed(x, ly.attnNorm(), c.normEps(), h, n, c.dim());
            if (n == 1 && sameType(ly.wq(), ly.wk(), ly.wv())) {  // one launch for the three products
                k.matvecMulti(ly.wq().type(), new DeviceBuffer[]{ly.wq().data(), ly.wk().data(), ly.wv().data()},
                        new int[]{c.qDim(), c.kvDim(), c.kvDim()}, c.dim(), attnIn.materialize(st), new DeviceBuffer[]{q, kk, vv}, st);
            } else {
                project(ly.wq(), attnIn, q);
                project(ly.wk(), attnIn, kk);
                project(ly.wv(), attnIn, vv);
            }
            int held = (int) (kc.bytes() / (4L * c.kvDim()));  // slots allocated so far (grows up to cap)
            k.ropeKv(q, kk, vv, kc, vc, positions, seqSlots, invFreq, n, c.nHeads(), c.nKvHeads(), c.headDim(), ropeDims,
                    pairing, cap, 1, held, st);
            if (n == 1) {
                // launch only the splits this position needs (no graph capture here: the position is known)
                k.attentionDecode(q, kc, vc, positions, partO, partMl, splitCounters, att, 1, c.nHeads(), c.nKvHeads(), c.headDim(), cap,
                        forGraph ? span : Math.min(span, p0 + 1), scale, held, st);
            } else {
                k.attentionPrefill(q, kc, vc, positions, seqSlots, att, n, c.nHeads(), c.nKvHeads(), c.headDim(), cap, span, 1,
                        scale, held, st);
            }
            projectAdd(ly.wo(), k.plain(att, n, c.qDim()), o);
            // feed-forward block: x += ffn(rmsnorm(x)), ffn = w2 . (silu(w1 h) * w3 h)
            CudaKernels.Input ffnIn = k.normed(x, ly.ffnNorm(), c.normEps(), h, n, c.dim());
            if (ly.router() == null && n == 1 && sameType(ly.w1(), ly.w3())) {  // w1, w3 and the gate in one launch
                k.matvecSwiglu(ly.w1().type(), ly.w1().data(), ly.w3().data(), c.ffnDim(), c.dim(), ffnIn.materialize(st), g, st);
                projectAdd(ly.w2(), k.plain(g, n, c.ffnDim()), d);
            } else if (ly.router() == null) {
                project(ly.w1(), ffnIn, g);
                project(ly.w3(), ffnIn, u);
                projectAdd(ly.w2(), k.gated(g, u, g, n, c.ffnDim()), d);
            } else {
                ffnIn.materialize(st);
                moe(ly, n);
            }
        }
        moveToStage(0);
        k.rmsnorm(x, outputNorm, h, n, c.dim(), c.normEps(), st);
    }

    /**
     * Continues on stage {@code s}'s stream once the work enqueued so far is done (an event recorded on the
     * current stream, waited for by the next): the hand-over a pipeline across devices needs, here between
     * streams of one device. Inside a graph capture this forks and joins the capture.
     */
    private void moveToStage(int s) {
        if (stages[s] == st) return;
        int from = indexOf(st);
        dev.record(handover[from], st);
        dev.waitEvent(stages[s], handover[from]);
        st = stages[s];
    }

    private int indexOf(long stream) {
        for (int i = 0; i < stages.length; i++) if (stages[i] == stream) return i;
        throw new IllegalStateException("unknown stream");
    }

    /** Mixtral: per token, the top-k experts by router logit, softmax over the chosen, weighted SwiGLU experts. */
    private void moe(Layer ly, int n) {
        int e = c.nExperts(), topK = c.nExpertsUsed(), hidden = c.expertFfnDim();
        project(ly.router(), h, routerLogits, n);
        k.moeRoute(routerLogits, expertIds, gateWeights, n, e, topK, 0, st);
        for (int t = 0; t < n; t++) {
            DeviceBuffer idsT = expertIds.view("expert ids " + t, 4L * t * topK, 4L * topK);
            DeviceBuffer gwT = gateWeights.view("gate weights " + t, 4L * t * topK, 4L * topK);
            DeviceBuffer hT = h.view("h " + t, 4L * t * c.dim(), 4L * c.dim());
            DeviceBuffer xT = x.view("x " + t, 4L * t * c.dim(), 4L * c.dim());
            k.moeMatvec(ly.w1Experts().type(), ly.w1Experts().data(), e, hidden, c.dim(), idsT, hT, false, eg, topK, st);
            k.moeMatvec(ly.w3Experts().type(), ly.w3Experts().data(), e, hidden, c.dim(), idsT, hT, false, eu, topK, st);
            k.swiglu(eg, eu, eg, topK * hidden, st);
            k.moeMatvec(ly.w2Experts().type(), ly.w2Experts().data(), e, c.dim(), hidden, idsT, eg, true, ed, topK, st);
            k.moeCombine(ed, gwT, xT, topK, c.dim(), st);
        }
    }

    private void project(Matrix w, DeviceBuffer in, DeviceBuffer out, int n) {
        k.project(w.type(), w.data(), w.rows(), w.cols(), in, out, n, st);
    }

    private static boolean sameType(Matrix... ms) {
        for (Matrix m : ms) if (m.type() != ms[0].type()) return false;
        return true;
    }

    private void project(Matrix w, CudaKernels.Input in, DeviceBuffer out) {
        k.project(w.type(), w.data(), w.rows(), w.cols(), in, out, st);
    }

    /** x += w . in (tmp: room for the product where it cannot be added in place). */
    private void projectAdd(Matrix w, CudaKernels.Input in, DeviceBuffer tmp) {
        k.projectAdd(w.type(), w.data(), w.rows(), w.cols(), in, x, tmp, st);
    }

    /** Logits of token {@code t} of the last pass (its normed state is row t of h). */
    private float[] logitsOf(int t) {
        DeviceBuffer ht = h.view("h " + t, 4L * t * c.dim(), 4L * c.dim());
        k.matvec(output.type(), output.data(), output.rows(), output.cols(), ht, logits, stream);
        float[] out = new float[c.vocabSize()];
        dev.synchronize(stream);
        dev.download(MemorySegment.ofArray(out), logits, 0, staging, stream);
        return out;
    }

    @Override
    public long weightBytes() {
        return weightBytes;
    }

    @Override
    public void close() {
        synchronized (this) {
            graphs.clear();  // destroyed with the device
            for (CudaKvCache cache : caches) cache.release();
            caches.clear();
        }
        dev.close();
    }
}
