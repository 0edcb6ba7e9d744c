package dev.jllm.cuda.bench;

import dev.jllm.cuda.ffm.CudaDevice;
import dev.jllm.cuda.ffm.DeviceBuffer;
import dev.jllm.cuda.kernels.CudaKernels;
import dev.jllm.cuda.kernels.DeviceLayout;
import dev.jllm.cuda.ref.RopeRef;
import dev.jllm.gguf.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * A Llama-shaped model with random weights living on the device, and the launch sequence of one decode
 * step (batch of {@code seqs} sequences, one token each) or one prefill chunk, in the order the forward
 * pass runs them. Used by {@link DecodeBench}; the same sequence runs against a fake driver in the
 * tests, which checks every launch's shapes without a GPU.
 */
public final class RandomLlama implements AutoCloseable {
    private final LlamaShape s;
    private final GgmlType type;
    private final CudaDevice dev;
    private final CudaKernels k;
    private final int maxTokens, seqs, window;
    private final java.util.List<DeviceBuffer> owned = new java.util.ArrayList<>();

    private final DeviceBuffer embedding, outNorm, output;           // [vocab][dim], [dim], [vocab][dim]
    private final DeviceBuffer[] wq, wk, wv, wo, w1, w2, w3, attnNorm, ffnNorm, kCache, vCache;
    private final DeviceBuffer x, h, q, kk, vv, att, o, g, u, d;       // activations [maxTokens][...]
    private final DeviceBuffer hLast, logits, tokens, ids, positions, seqSlots, invFreq, partO, partMl, splitCounters;

    /**
     * @param maxTokens tokens per call at most (decode batch or prefill chunk)
     * @param seqs      sequences (KV caches)
     * @param window    cache slots per sequence and layer
     */
    public RandomLlama(CudaKernels kernels, LlamaShape shape, GgmlType type, int maxTokens, int seqs, int window, long seed, long stream) {
        this.s = shape;
        this.type = type;
        this.k = kernels;
        this.dev = kernels.device();
        this.maxTokens = maxTokens;
        this.seqs = seqs;
        this.window = window;
        int L = shape.layers();
        wq = new DeviceBuffer[L]; wk = new DeviceBuffer[L]; wv = new DeviceBuffer[L]; wo = new DeviceBuffer[L];
        w1 = new DeviceBuffer[L]; w2 = new DeviceBuffer[L]; w3 = new DeviceBuffer[L];
        attnNorm = new DeviceBuffer[L]; ffnNorm = new DeviceBuffer[L]; kCache = new DeviceBuffer[L]; vCache = new DeviceBuffer[L];
        long[] seedBox = {seed};
        embedding = weights("token_embd.weight", shape.vocab(), shape.dim(), seedBox, stream);
        output = weights("output.weight", shape.vocab(), shape.dim(), seedBox, stream);
        outNorm = norm("output_norm.weight", stream);
        long cacheBytes = 4L * seqs * shape.kvHeads() * window * shape.headDim();
        for (int l = 0; l < L; l++) {
            wq[l] = weights("blk." + l + ".attn_q.weight", shape.qDim(), shape.dim(), seedBox, stream);
            wk[l] = weights("blk." + l + ".attn_k.weight", shape.kvDim(), shape.dim(), seedBox, stream);
            wv[l] = weights("blk." + l + ".attn_v.weight", shape.kvDim(), shape.dim(), seedBox, stream);
            wo[l] = weights("blk." + l + ".attn_output.weight", shape.dim(), shape.qDim(), seedBox, stream);
            w1[l] = weights("blk." + l + ".ffn_gate.weight", shape.ffn(), shape.dim(), seedBox, stream);
            w3[l] = weights("blk." + l + ".ffn_up.weight", shape.ffn(), shape.dim(), seedBox, stream);
            w2[l] = weights("blk." + l + ".ffn_down.weight", shape.dim(), shape.ffn(), seedBox, stream);
            attnNorm[l] = norm("blk." + l + ".attn_norm.weight", stream);
            ffnNorm[l] = norm("blk." + l + ".ffn_norm.weight", stream);
            kCache[l] = own("blk." + l + ".k_cache", cacheBytes);
            vCache[l] = own("blk." + l + ".v_cache", cacheBytes);
            k.fillRandom(kCache[l], cacheBytes / 4, seedBox[0]++, CudaKernels.FINITE_MASK, 0, stream);
            k.fillRandom(vCache[l], cacheBytes / 4, seedBox[0]++, CudaKernels.FINITE_MASK, 0, stream);
        }
        x = act("x", shape.dim()); h = act("h", shape.dim()); q = act("q", shape.qDim());
        kk = act("k", shape.kvDim()); vv = act("v", shape.kvDim()); att = act("att", shape.qDim());
        o = act("o", shape.dim()); g = act("g", shape.ffn()); u = act("u", shape.ffn()); d = act("d", shape.dim());
        hLast = own("h_last", 4L * shape.dim());
        logits = own("logits", 4L * maxTokens * shape.vocab());
        tokens = own("next tokens", 4L * maxTokens);
        ids = own("ids", 4L * maxTokens);
        positions = own("positions", 4L * maxTokens);
        seqSlots = own("seq slots", 4L * maxTokens);
        int splits = CudaKernels.decodeSplits(window);
        partO = own("attn part_o", 4L * maxTokens * shape.heads() * splits * shape.headDim());
        partMl = own("attn part_ml", 8L * maxTokens * shape.heads() * splits);
        splitCounters = own("attn split counters", 4L * maxTokens * shape.heads());
        k.device().fill32(splitCounters, 0, 0, (long) maxTokens * shape.heads(), stream);
        invFreq = own("inv_freq", 4L * shape.headDim() / 2);
        float[] f = RopeRef.invFreqLlama3(500000, shape.headDim(), 32, 1, 4, 8192);
        upload(invFreq, MemorySegment.ofArray(f), stream);
        k.fillRandom(ids, maxTokens, seedBox[0]++, 0x3FFF, 0, stream);  // token ids < 16384 <= vocab
    }

    private DeviceBuffer weights(String name, int rows, int cols, long[] seed, long stream) {
        DeviceLayout.check(name, type, rows, cols);
        long bytes = DeviceLayout.bytes(type, rows, cols);
        DeviceBuffer b = own(name, (bytes + 3) / 4 * 4);
        k.fillRandom(b, b.bytes() / 4, seed[0]++, CudaKernels.FINITE_MASK, 0, stream);
        return b;
    }

    private DeviceBuffer own(String label, long bytes) {
        DeviceBuffer b = dev.memory().allocate(label, bytes);
        owned.add(b);
        return b;
    }

    /** Frees every device buffer of this model. */
    @Override
    public void close() {
        for (DeviceBuffer b : owned.reversed()) if (!b.isFreed()) dev.memory().free(b);
        owned.clear();
    }

    private DeviceBuffer norm(String name, long stream) {
        DeviceBuffer b = own(name, 4L * s.dim());
        k.fillRandom(b, s.dim(), 7, 0x007FFFFF, 0x3F800000, stream);  // floats in [1, 2)
        return b;
    }

    private DeviceBuffer act(String name, int width) {
        return own(name, 4L * maxTokens * width);
    }

    private void upload(DeviceBuffer dst, MemorySegment src, long stream) {
        var staging = dev.memory().allocatePinned("staging " + dst.label(), src.byteSize());
        dev.upload(dst, 0, src, staging, stream);
        dev.memory().free(staging);
    }

    /** Sets the positions and sequence slots of the next call: token t at {@code pos[t]} of sequence {@code slot[t]}. */
    public void setBatch(int[] pos, int[] slot, long stream) {
        upload(positions, MemorySegment.ofArray(pos), stream);
        upload(seqSlots, MemorySegment.ofArray(slot), stream);
    }

    private void project(DeviceBuffer w, int rows, int cols, DeviceBuffer in, DeviceBuffer out, int n, long stream) {
        k.project(type, w, rows, cols, in, out, n, stream);
    }

    private boolean multi = true;

    /** Whether one-token steps run wq/wk/wv and w1/w3 as one launch each (benchmarks compare). */
    public void multiMatvec(boolean on) {
        multi = on;
    }

    /** Enqueues one decode step: {@code n} sequences (slots 0..n-1), one token each, greedy next tokens. */
    public void enqueueDecode(int n, long stream) {
        check(n <= Math.min(seqs, maxTokens), "decode batch " + n);
        float scale = (float) (1 / Math.sqrt(s.headDim()));
        k.embedding(embedding, type, s.vocab(), s.dim(), ids, x, n, stream);
        for (int l = 0; l < s.layers(); l++) {
            CudaKernels.Input attnIn = k.normed(x, attnNorm[l], 1e-5f, h, n, s.dim());
            if (n == 1 && multi) {
                k.matvecMulti(type, new DeviceBuffer[]{wq[l], wk[l], wv[l]}, new int[]{s.qDim(), s.kvDim(), s.kvDim()}, s.dim(),
                        attnIn.materialize(stream), new DeviceBuffer[]{q, kk, vv}, stream);
            } else {
                k.project(type, wq[l], s.qDim(), s.dim(), attnIn, q, stream);
                k.project(type, wk[l], s.kvDim(), s.dim(), attnIn, kk, stream);
                k.project(type, wv[l], s.kvDim(), s.dim(), attnIn, vv, stream);
            }
            k.ropeKv(q, kk, vv, kCache[l], vCache[l], positions, seqSlots, invFreq, n, s.heads(), s.kvHeads(), s.headDim(),
                    s.headDim(), RopeRef.HALF_SPLIT, window, seqs, stream);
            k.attentionDecode(q, kCache[l], vCache[l], positions, partO, partMl, splitCounters, att, n, s.heads(), s.kvHeads(), s.headDim(),
                    window, window, scale, stream);
            k.projectAdd(type, wo[l], s.dim(), s.qDim(), k.plain(att, n, s.qDim()), x, o, stream);
            CudaKernels.Input ffnIn = k.normed(x, ffnNorm[l], 1e-5f, h, n, s.dim());
            if (n == 1 && multi) {
                k.matvecSwiglu(type, w1[l], w3[l], s.ffn(), s.dim(), ffnIn.materialize(stream), g, stream);
                k.projectAdd(type, w2[l], s.dim(), s.ffn(), k.plain(g, n, s.ffn()), x, d, stream);
            } else {
                k.project(type, w1[l], s.ffn(), s.dim(), ffnIn, g, stream);
                k.project(type, w3[l], s.ffn(), s.dim(), ffnIn, u, stream);
                k.projectAdd(type, w2[l], s.dim(), s.ffn(), k.gated(g, u, g, n, s.ffn()), x, d, stream);
            }
        }
        k.rmsnorm(x, outNorm, h, n, s.dim(), 1e-5f, stream);
        project(output, s.vocab(), s.dim(), h, logits, n, stream);
        k.argmax(logits, tokens, n, s.vocab(), stream);
    }

    /** Enqueues a prefill of {@code n} tokens of sequence 0 (positions set by {@link #setBatch}), logits of the last. */
    public void enqueuePrefill(int n, long stream) {
        check(n <= Math.min(maxTokens, window), "prefill chunk " + n);
        float scale = (float) (1 / Math.sqrt(s.headDim()));
        k.embedding(embedding, type, s.vocab(), s.dim(), ids, x, n, stream);
        for (int l = 0; l < s.layers(); l++) {
            k.rmsnorm(x, attnNorm[l], h, n, s.dim(), 1e-5f, stream);
            k.matmul(type, wq[l], s.qDim(), s.dim(), h, q, n, stream);
            k.matmul(type, wk[l], s.kvDim(), s.dim(), h, kk, n, stream);
            k.matmul(type, wv[l], s.kvDim(), s.dim(), h, vv, n, stream);
            k.ropeKv(q, kk, vv, kCache[l], vCache[l], positions, seqSlots, invFreq, n, s.heads(), s.kvHeads(), s.headDim(),
                    s.headDim(), RopeRef.HALF_SPLIT, window, seqs, stream);
            k.attentionPrefill(q, kCache[l], vCache[l], positions, seqSlots, att, n, s.heads(), s.kvHeads(), s.headDim(),
                    window, window, seqs, scale, stream);
            k.matmul(type, wo[l], s.dim(), s.qDim(), att, o, n, stream);
            k.residualAdd(x, o, n * s.dim(), stream);
            k.rmsnorm(x, ffnNorm[l], h, n, s.dim(), 1e-5f, stream);
            k.matmul(type, w1[l], s.ffn(), s.dim(), h, g, n, stream);
            k.matmul(type, w3[l], s.ffn(), s.dim(), h, u, n, stream);
            k.swiglu(g, u, g, n * s.ffn(), stream);
            k.matmul(type, w2[l], s.dim(), s.ffn(), g, d, n, stream);
            k.residualAdd(x, d, n * s.dim(), stream);
        }
        dev.copyDeviceToDevice(hLast, 0, x, 4L * (n - 1) * s.dim(), 4L * s.dim(), stream);
        k.rmsnorm(hLast, outNorm, hLast, 1, s.dim(), 1e-5f, stream);
        k.matvec(type, output, s.vocab(), s.dim(), hLast, logits, stream);
        k.argmax(logits, tokens, 1, s.vocab(), stream);
    }

    /** The next-token ids of the last call ({@code n} of them). */
    public int[] nextTokens(int n, long stream) {
        int[] out = new int[n];
        var staging = dev.memory().allocatePinned("tokens staging", 4L * n);
        dev.download(MemorySegment.ofArray(out), tokens, 0, staging, stream);
        dev.memory().free(staging);
        return out;
    }

    private static void check(boolean ok, String what) {
        if (!ok) throw new IllegalArgumentException(what + " exceeds the sizes this model was allocated for");
    }

}
