package dev.jllm.cuda.gpu;

import dev.jllm.cuda.ffm.DeviceBuffer;
import dev.jllm.cuda.ffm.CudaDevice;
import dev.jllm.cuda.kernels.DeviceLayout;
import dev.jllm.cuda.ref.AttentionRef;
import dev.jllm.cuda.ref.ElementwiseRef;
import dev.jllm.cuda.ref.MoeRef;
import dev.jllm.cuda.ref.RopeRef;
import dev.jllm.cuda.ref.SamplingRef;
import dev.jllm.cuda.ref.TestData;
import dev.jllm.cuda.ref.WeightRef;
import dev.jllm.gguf.GgmlType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every kernel on a real GPU against its CPU reference, on random data at awkward sizes, with outputs
 * poisoned (NaN) first so unwritten elements fail. Skipped, with the reason, where there is no CUDA
 * device. Runs in debug mode: each launch is synchronized and checked.
 */
class KernelGpuTest {
    /** Dot products: |gpu - ref| <= DOT_REL_TOL * sum_c |w_c x_c| (float accumulation order differs). */
    static final double DOT_REL_TOL = 2e-5;
    /** Elementwise kernels (expf, rsqrtf). */
    static final float ELEMENTWISE_REL_TOL = 2e-6f;
    /** RoPE: sincosf of angles up to ~1e3 rad in float. */
    static final float ROPE_ABS_TOL = 2e-4f;
    /** Attention outputs (values in [-1, 1]); split-K/online softmax reorder the sums. */
    static final float ATTENTION_ABS_TOL = 2e-5f;
    /** MoE gate weights. */
    static final float GATE_ABS_TOL = 1e-6f;

    private static GpuFixture gpu;

    @BeforeAll
    static void open() {
        gpu = GpuFixture.openOrNull();
    }

    @BeforeEach
    void needsGpu() {
        GpuFixture.assumeGpu(gpu);
    }

    @AfterAll
    static void close() {
        if (gpu != null) gpu.close();
    }

    private static void assertDots(float[] expect, float[] got, float[] bound, String what) {
        assertEquals(expect.length, got.length);
        for (int i = 0; i < expect.length; i++) {
            double tol = DOT_REL_TOL * bound[i] + 1e-6;
            assertTrue(Math.abs(expect[i] - got[i]) <= tol, what + " [" + i + "]: expected " + expect[i] + ", got " + got[i] + " (tol " + tol + ")");
        }
    }

    /** sum_c |W[r][c] * x[t][c]| per output, the scale of the rounding error. */
    private static float[] dotBounds(GgmlType type, MemorySegment w, int rows, int cols, float[] x, int tokens) {
        float[] bound = new float[tokens * rows];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            WeightRef.ggmlRow(type, w, cols, r, row);
            for (int t = 0; t < tokens; t++) {
                double s = 0;
                for (int c = 0; c < cols; c++) s += Math.abs(row[c] * x[t * cols + c]);
                bound[t * rows + r] = (float) s;
            }
        }
        return bound;
    }

    private static DeviceBuffer uploadWeights(GgmlType type, MemorySegment ggml, int rows, int cols, String label) {
        MemorySegment dev = Arena.ofAuto().allocate(DeviceLayout.bytes(type, rows, cols), 16);
        DeviceLayout.repack(type, rows, cols, ggml, dev);
        return gpu.upload(label, dev);
    }

    @Test
    void matvecEveryTypeAtAwkwardSizes() {
        SplittableRandom rnd = new SplittableRandom(100);
        // staged: Q8_0/Q4_0 read x from shared memory; unstaged: from global memory, as for rows wider than
        // MATVEC_STAGE_MAX_BYTES allows (a 13B model's w2)
        for (boolean stage : new boolean[]{true, false}) for (GgmlType type : TestData.KERNEL_TYPES) {
            gpu.kernels.stageMatvecInput(stage);
            for (int cols : new int[]{TestData.awkwardCols(type), type.blockSize == 1 ? 264 : type.blockSize * 33}) {
                int rows = 37;
                MemorySegment w = TestData.weights(type, rows, cols, rnd.nextLong());
                float[] x = TestData.floats(rnd, cols, 1);
                DeviceBuffer dw = uploadWeights(type, w, rows, cols, type + " w");
                DeviceBuffer dx = gpu.upload("x", x);
                DeviceBuffer dy = gpu.poisoned("y", rows);
                gpu.kernels.matvec(type, dw, rows, cols, dx, dy, gpu.stream);
                assertDots(WeightRef.matvec(type, w, rows, cols, x), gpu.floats(dy, rows), dotBounds(type, w, rows, cols, x, 1),
                        "matvec " + type + " " + rows + "x" + cols + (stage ? "" : " unstaged"));
            }
        }
        gpu.kernels.stageMatvecInput(true);
    }

    /** wq/wk/wv in one launch (blocks straddle the matrices), and w1/w3 with the SwiGLU gate in one launch. */
    @Test
    void multiMatrixProductsMatchTheReference() {
        SplittableRandom rnd = new SplittableRandom(109);
        for (GgmlType type : TestData.KERNEL_TYPES) {
            int cols = type.blockSize == 1 ? 264 : type.blockSize * 33;
            int[] rows = {37, 13, 11};
            MemorySegment[] w = new MemorySegment[3];
            DeviceBuffer[] dw = new DeviceBuffer[3], dy = new DeviceBuffer[3];
            for (int i = 0; i < 3; i++) {
                w[i] = TestData.weights(type, rows[i], cols, rnd.nextLong());
                dw[i] = uploadWeights(type, w[i], rows[i], cols, type + " w" + i);
                dy[i] = gpu.poisoned("y" + i, rows[i]);
            }
            float[] x = TestData.floats(rnd, cols, 1);
            DeviceBuffer dx = gpu.upload("x", x);
            gpu.kernels.matvecMulti(type, dw, rows, cols, dx, dy, gpu.stream);
            for (int i = 0; i < 3; i++) {
                assertDots(WeightRef.matvec(type, w[i], rows[i], cols, x), gpu.floats(dy[i], rows[i]),
                        dotBounds(type, w[i], rows[i], cols, x, 1), "multi " + type + " matrix " + i);
            }
            // SwiGLU pair: w1 = w[0], w3 = a second 37-row matrix
            MemorySegment w3 = TestData.weights(type, rows[0], cols, rnd.nextLong());
            DeviceBuffer out = gpu.poisoned("gate", rows[0]);
            gpu.kernels.matvecSwiglu(type, dw[0], uploadWeights(type, w3, rows[0], cols, type + " w3"), rows[0], cols, dx, out, gpu.stream);
            float[] gate = WeightRef.matvec(type, w[0], rows[0], cols, x), up = WeightRef.matvec(type, w3, rows[0], cols, x);
            float[] gb = dotBounds(type, w[0], rows[0], cols, x, 1), ub = dotBounds(type, w3, rows[0], cols, x, 1);
            float[] expect = ElementwiseRef.swiglu(gate, up), got = gpu.floats(out, rows[0]);
            for (int r = 0; r < rows[0]; r++) {
                // |d(silu(g) u)| <= (|u| * max|silu'| + |silu(g)|) * dot error; silu' is within [-0.1, 1.1]
                double tol = DOT_REL_TOL * (1.1 * Math.abs(up[r]) * gb[r] + (Math.abs(gate[r]) + 1) * ub[r]) + 1e-6;
                assertTrue(Math.abs(expect[r] - got[r]) <= tol, "swiglu pair " + type + " [" + r + "]: expected " + expect[r]
                        + ", got " + got[r] + " (tol " + tol + ")");
            }
        }
    }

    /** One decode token: rmsnorm or SwiGLU applied while the input is staged, and the residual added in place. */
    @Test
    void fusedNormGateAndResidualAddMatchTheSeparateKernels() {
        SplittableRandom rnd = new SplittableRandom(107);
        for (boolean fuse : new boolean[]{true, false}) for (GgmlType type : TestData.KERNEL_TYPES) {
            gpu.kernels.fuseInputs(fuse);
            int rows = 37, cols = type.blockSize == 1 ? 264 : type.blockSize * 33;
            MemorySegment w = TestData.weights(type, rows, cols, rnd.nextLong());
            float[] x = TestData.floats(rnd, cols, 1), aux = TestData.floats(rnd, cols, 1), base = TestData.floats(rnd, rows, 1);
            DeviceBuffer dw = uploadWeights(type, w, rows, cols, type + " w");
            float[] normed = ElementwiseRef.rmsnorm(x, aux, 1, cols, 1e-5f), gated = ElementwiseRef.swiglu(x, aux);
            String what = type + " " + rows + "x" + cols + (gpu.kernels.fusesInput(type, cols) ? " fused" : " unfused");
            // y = W . rmsnorm(x)
            DeviceBuffer dy = gpu.poisoned("y", rows);
            gpu.kernels.project(type, dw, rows, cols, gpu.kernels.normed(gpu.upload("x", x), gpu.upload("norm", aux), 1e-5f,
                    gpu.poisoned("h", cols), 1, cols), dy, gpu.stream);
            assertDots(WeightRef.matvec(type, w, rows, cols, normed), gpu.floats(dy, rows), dotBounds(type, w, rows, cols, normed, 1),
                    "norm " + what);
            // y += W . (silu(g) * u)
            DeviceBuffer acc = gpu.upload("residual", base);
            gpu.kernels.projectAdd(type, dw, rows, cols, gpu.kernels.gated(gpu.upload("g", x), gpu.upload("u", aux),
                    gpu.poisoned("gu", cols), 1, cols), acc, gpu.poisoned("tmp", rows), gpu.stream);
            float[] expect = WeightRef.matvec(type, w, rows, cols, gated), bound = dotBounds(type, w, rows, cols, gated, 1);
            for (int r = 0; r < rows; r++) {
                expect[r] += base[r];
                bound[r] += Math.abs(base[r]);
            }
            assertDots(expect, gpu.floats(acc, rows), bound, "gate + add " + what);
        }
        gpu.kernels.fuseInputs(false);
    }

    @Test
    void matmulEveryTypeAcrossTileEdges() {
        SplittableRandom rnd = new SplittableRandom(101);
        for (GgmlType type : TestData.KERNEL_TYPES) {
            int rows = 67, cols = TestData.awkwardCols(type), tokens = 70;
            MemorySegment w = TestData.weights(type, rows, cols, rnd.nextLong());
            float[] x = TestData.floats(rnd, tokens * cols, 1);
            DeviceBuffer dw = uploadWeights(type, w, rows, cols, type + " w");
            DeviceBuffer dx = gpu.upload("X", x);
            DeviceBuffer dy = gpu.poisoned("Y", (long) tokens * rows);
            gpu.kernels.matmul(type, dw, rows, cols, dx, dy, tokens, gpu.stream);
            assertDots(WeightRef.matmul(type, w, rows, cols, x, tokens), gpu.floats(dy, tokens * rows),
                    dotBounds(type, w, rows, cols, x, tokens), "matmul " + type);
        }
    }

    @Test
    void batchedMatvecEveryTypeAtAwkwardTokenCounts() {
        SplittableRandom rnd = new SplittableRandom(109);
        // 9 tokens: staged Q8_0/Q4_0 blocks of 5 and 4 (T from gridDim.y); unstaged: one token at a time
        for (boolean stage : new boolean[]{true, false}) for (GgmlType type : TestData.KERNEL_TYPES) {
            gpu.kernels.stageMatvecInput(stage);
            int rows = 37, cols = type.blockSize == 1 ? 252 : TestData.awkwardCols(type);
            for (int tokens : new int[]{2, 7, 9, 32}) {
                MemorySegment w = TestData.weights(type, rows, cols, rnd.nextLong());
                float[] x = TestData.floats(rnd, tokens * cols, 1);
                DeviceBuffer dw = uploadWeights(type, w, rows, cols, type + " w");
                DeviceBuffer dy = gpu.poisoned("Y", (long) tokens * rows);
                gpu.kernels.matvecBatch(type, dw, rows, cols, gpu.upload("X", x), dy, tokens, gpu.stream);
                assertDots(WeightRef.matmul(type, w, rows, cols, x, tokens), gpu.floats(dy, tokens * rows),
                        dotBounds(type, w, rows, cols, x, tokens), "batched matvec " + type + " x" + tokens + (stage ? "" : " unstaged"));
            }
        }
        gpu.kernels.stageMatvecInput(true);
    }

    @Test
    void embeddingGathersAndPoisonsBadIds() {
        int vocab = 41, dim = 96;
        MemorySegment table = TestData.weights(GgmlType.Q4_0, vocab, dim, 7);
        int[] ids = {0, 40, 17, 17};
        DeviceBuffer dt = uploadWeights(GgmlType.Q4_0, table, vocab, dim, "token_embd");
        DeviceBuffer out = gpu.poisoned("emb", (long) (ids.length + 1) * dim);
        gpu.kernels.embedding(dt, GgmlType.Q4_0, vocab, dim, gpu.upload("ids", ids), out, ids.length, gpu.stream);
        float[] got = gpu.floats(out, ids.length * dim);
        assertArrayEquals(WeightRef.embedding(GgmlType.Q4_0, table, dim, ids), got, 0f);
        DeviceBuffer bad = gpu.poisoned("emb bad", dim);
        gpu.kernels.embedding(dt, GgmlType.Q4_0, vocab, dim, gpu.upload("bad id", new int[]{41}), bad, 1, gpu.stream);
        assertTrue(Float.isNaN(gpu.floats(bad, dim)[0]), "an id past the vocabulary gives NaN, not a stray row");
    }

    @Test
    void rmsnormSwigluAddCombine() {
        SplittableRandom rnd = new SplittableRandom(102);
        int rows = 3, dim = 4099;
        float[] x = TestData.floats(rnd, rows * dim, 4), w = TestData.floats(rnd, dim, 1);
        DeviceBuffer out = gpu.poisoned("norm", (long) rows * dim);
        gpu.kernels.rmsnorm(gpu.upload("x", x), gpu.upload("w", w), out, rows, dim, 1e-6f, gpu.stream);
        assertClose(ElementwiseRef.rmsnorm(x, w, rows, dim, 1e-6f), gpu.floats(out, rows * dim), "rmsnorm");

        int n = 10007;
        float[] g = TestData.floats(rnd, n, 8), u = TestData.floats(rnd, n, 2);
        DeviceBuffer s = gpu.poisoned("swiglu", n);
        gpu.kernels.swiglu(gpu.upload("g", g), gpu.upload("u", u), s, n, gpu.stream);
        assertClose(ElementwiseRef.swiglu(g, u), gpu.floats(s, n), "swiglu");

        DeviceBuffer acc = gpu.upload("acc", g);
        gpu.kernels.residualAdd(acc, gpu.upload("delta", u), n, gpu.stream);
        assertClose(ElementwiseRef.add(g, u), gpu.floats(acc, n), "residual add");

        int slots = 3, d = 1001;
        float[] y = TestData.floats(rnd, slots * d, 1), gw = {0.5f, 0.3f, 0.2f}, base = TestData.floats(rnd, d, 1);
        DeviceBuffer xb = gpu.upload("x", base);
        gpu.kernels.moeCombine(gpu.upload("y", y), gpu.upload("gw", gw), xb, slots, d, gpu.stream);
        assertClose(ElementwiseRef.moeCombine(y, gw, base, slots, d), gpu.floats(xb, d), "moe combine");
    }

    private static void assertClose(float[] expect, float[] got, String what) {
        for (int i = 0; i < expect.length; i++) {
            float tol = ELEMENTWISE_REL_TOL * (1 + Math.abs(expect[i])) * 4;
            assertTrue(Math.abs(expect[i] - got[i]) <= tol, what + " [" + i + "]: expected " + expect[i] + ", got " + got[i]);
        }
    }

    @Test
    void ropeBothPairingsWithLlama3FrequenciesWritesTheRollingCache() {
        SplittableRandom rnd = new SplittableRandom(103);
        int nHeads = 4, nKv = 2, window = 4, seqs = 2;
        for (int headDim : new int[]{64, 128}) {
            for (int pairing : new int[]{RopeRef.ADJACENT, RopeRef.HALF_SPLIT}) {
                // within one launch the tokens of a sequence must map to distinct slots (pos mod window)
                int[] pos = {4, 5, 2, 3, 3, 700};   // seq 0 -> slots 0, 1, 2, 3; seq 1 -> slots 3, 0
                int[] seq = {0, 0, 0, 0, 1, 1};
                int n = pos.length;
                float[] inv = RopeRef.invFreqLlama3(500000, headDim, 8, 1, 4, 8192);
                float[] q = TestData.floats(rnd, n * nHeads * headDim, 1), k = TestData.floats(rnd, n * nKv * headDim, 1),
                        v = TestData.floats(rnd, n * nKv * headDim, 1);
                DeviceBuffer dq = gpu.upload("q", q), dk = gpu.upload("k", k), dv = gpu.upload("v", v);
                int cacheFloats = seqs * nKv * window * headDim;
                DeviceBuffer kc = gpu.poisoned("k_cache", cacheFloats), vc = gpu.poisoned("v_cache", cacheFloats);
                gpu.kernels.ropeKv(dq, dk, dv, kc, vc, gpu.upload("pos", pos), gpu.upload("seq", seq), gpu.upload("inv_freq", inv),
                        n, nHeads, nKv, headDim, headDim, pairing, window, seqs, gpu.stream);
                float[] rkc = GpuFixture.nanFilled(cacheFloats), rvc = GpuFixture.nanFilled(cacheFloats);
                RopeRef.ropeKv(q, k, v, rkc, rvc, pos, seq, inv, nHeads, nKv, headDim, headDim, pairing, window);
                String what = "rope hd " + headDim + " pairing " + pairing;
                assertArrayEquals(q, gpu.floats(dq, q.length), ROPE_ABS_TOL, what + " q");
                assertArrayEquals(rkc, gpu.floats(kc, cacheFloats), ROPE_ABS_TOL, what + " k cache");
                assertArrayEquals(rvc, gpu.floats(vc, cacheFloats), 0f, what + " v cache");
            }
        }
    }

    @Test
    void decodeAttentionSplitKWithGqaSlidingWindowAndRollingCache() {
        SplittableRandom rnd = new SplittableRandom(104);
        int[] pos = {0, 299, 650, 1500};  // the last one has wrapped around the rolling buffer of 700
        // 64 and 128: four threads per key for the scores; 72: one thread per key (72 % 16 != 0), float4 values;
        // 30: scalar values too
        for (int headDim : new int[]{64, 128, 72, 30}) {
            for (int span : new int[]{700, 257}) assertDecodeAttention(rnd, pos, 8, 2, headDim, 700, span);
        }
    }

    /** Spans above 2048 keys take chunks of 64 (several rounds of the scores loop per split) and fewer splits. */
    @Test
    void decodeAttentionOverLongSpansTakesChunksOfMoreThan32Keys() {
        SplittableRandom rnd = new SplittableRandom(110);
        int[] pos = {5, 2047, 2599, 4000};  // the last one has wrapped around the rolling buffer of 2600
        for (int headDim : new int[]{64, 72}) {
            for (int span : new int[]{2600, 2100}) {
                assertEquals(64, dev.jllm.cuda.kernels.CudaKernels.decodeChunk(span), "span " + span);
                assertDecodeAttention(rnd, pos, 4, 2, headDim, 2600, span);
            }
        }
    }

    /** Decode attention on random caches against the reference, launched twice on one set of split counters. */
    private static void assertDecodeAttention(SplittableRandom rnd, int[] pos, int nHeads, int nKv, int headDim, int window, int span) {
        int seqs = pos.length;
        float scale = (float) (1 / Math.sqrt(headDim));
        float[] kc = TestData.floats(rnd, seqs * nKv * window * headDim, 1), vc = TestData.floats(rnd, seqs * nKv * window * headDim, 1);
        float[] q = TestData.floats(rnd, seqs * nHeads * headDim, 1);
        int splits = dev.jllm.cuda.kernels.CudaKernels.decodeSplits(span);
        DeviceBuffer counters = gpu.kernels.decodeCounters(seqs, nHeads, gpu.stream);
        DeviceBuffer dq = gpu.upload("q", q), dk = gpu.upload("kc", kc), dv = gpu.upload("vc", vc), dpos = gpu.upload("pos", pos);
        DeviceBuffer po = gpu.poisoned("part_o", (long) seqs * nHeads * splits * headDim);
        DeviceBuffer pml = gpu.poisoned("part_ml", 2L * seqs * nHeads * splits);
        float[] expect = AttentionRef.decode(q, kc, vc, pos, nHeads, nKv, headDim, window, span, scale);
        for (int round = 0; round < 2; round++) {  // the second launch finds the counters reset by the first
            DeviceBuffer out = gpu.poisoned("attn", (long) seqs * nHeads * headDim);
            gpu.kernels.attentionDecode(dq, dk, dv, dpos, po, pml, counters, out, seqs, nHeads, nKv, headDim, window, span,
                    scale, gpu.stream);
            assertArrayEquals(expect, gpu.floats(out, expect.length), ATTENTION_ABS_TOL,
                    "decode hd " + headDim + " span " + span + " launch " + (round + 1));
        }
        assertArrayEquals(new int[seqs * nHeads], gpu.ints(counters, seqs * nHeads), "counters back at zero");
    }

    @Test
    void prefillAttentionPackedCausalSlidingWithCachedPrefix() {
        SplittableRandom rnd = new SplittableRandom(105);
        int nHeads = 4, nKv = 2, window = 64, seqs = 2;
        // seq 0: positions 0..40 (fresh); seq 1: positions 10..30 (continues a cached prefix 0..9)
        int n0 = 41, n1 = 21;
        int[] pos = new int[n0 + n1], seq = new int[n0 + n1];
        for (int i = 0; i < n0; i++) pos[i] = i;
        for (int i = 0; i < n1; i++) {
            pos[n0 + i] = 10 + i;
            seq[n0 + i] = 1;
        }
        for (int headDim : new int[]{64, 128, 256}) {
            for (int span : new int[]{window, 8}) {
                float scale = (float) (1 / Math.sqrt(headDim));
                float[] kc = TestData.floats(rnd, seqs * nKv * window * headDim, 1), vc = TestData.floats(rnd, seqs * nKv * window * headDim, 1);
                float[] q = TestData.floats(rnd, pos.length * nHeads * headDim, 1);
                DeviceBuffer out = gpu.poisoned("attn", (long) pos.length * nHeads * headDim);
                gpu.kernels.attentionPrefill(gpu.upload("q", q), gpu.upload("kc", kc), gpu.upload("vc", vc), gpu.upload("pos", pos),
                        gpu.upload("seq", seq), out, pos.length, nHeads, nKv, headDim, window, span, seqs, scale, gpu.stream);
                float[] expect = AttentionRef.prefill(q, kc, vc, pos, seq, nHeads, nKv, headDim, window, span, scale);
                assertArrayEquals(expect, gpu.floats(out, expect.length), ATTENTION_ABS_TOL, "prefill hd " + headDim + " span " + span);
            }
        }
    }

    @Test
    void moeRoutingAndExpertProductsReadIdsOnTheDevice() {
        SplittableRandom rnd = new SplittableRandom(106);
        int tokens = 5, experts = 8, topK = 2;
        float[] logits = TestData.floats(rnd, tokens * experts, 3);
        for (int mode : new int[]{MoeRef.SOFTMAX_TOPK, MoeRef.SOFTMAX_ALL, MoeRef.SOFTMAX_ALL_RENORM}) {
            DeviceBuffer ids = gpu.device.memory().allocate("ids", 4L * tokens * topK);
            gpu.device.fill32(ids, 0, -1, (long) tokens * topK, gpu.stream);
            DeviceBuffer gw = gpu.poisoned("gate weights", (long) tokens * topK);
            gpu.kernels.moeRoute(gpu.upload("router logits", logits), ids, gw, tokens, experts, topK, mode, gpu.stream);
            int[] gotIds = gpu.ints(ids, tokens * topK);
            float[] gotW = gpu.floats(gw, tokens * topK);
            for (int t = 0; t < tokens; t++) {
                MoeRef.Route r = MoeRef.route(logits, t * experts, experts, topK, mode);
                assertArrayEquals(r.experts(), Arrays.copyOfRange(gotIds, t * topK, (t + 1) * topK), "mode " + mode + " token " + t);
                assertArrayEquals(r.weights(), Arrays.copyOfRange(gotW, t * topK, (t + 1) * topK), GATE_ABS_TOL, "mode " + mode + " token " + t);
            }
        }
        // expert products: experts stacked [experts][rows][cols], ids {5, 2} read from device memory
        GgmlType type = GgmlType.Q4_0;
        int rows = 37, cols = 224;
        long bytes = DeviceLayout.bytes(type, rows, cols), stride = DeviceLayout.expertStride(type, rows, cols);
        MemorySegment all = Arena.ofAuto().allocate(experts * stride, 16);
        MemorySegment[] perExpert = new MemorySegment[experts];
        for (int e = 0; e < experts; e++) {
            perExpert[e] = TestData.weights(type, rows, cols, 200 + e);
            DeviceLayout.repack(type, rows, cols, perExpert[e], all.asSlice(e * stride, bytes));
        }
        DeviceBuffer dw = gpu.upload("ffn_up_exps", all);
        int[] chosen = {5, 2};
        float[] x = TestData.floats(rnd, 2 * cols, 1);
        for (boolean perSlot : new boolean[]{false, true}) {
            DeviceBuffer y = gpu.poisoned("expert out", 2L * rows);
            gpu.kernels.moeMatvec(type, dw, experts, rows, cols, gpu.upload("chosen", chosen), gpu.upload("x", x), perSlot, y, 2, gpu.stream);
            float[] got = gpu.floats(y, 2 * rows);
            for (int s = 0; s < 2; s++) {
                float[] xs = perSlot ? Arrays.copyOfRange(x, s * cols, (s + 1) * cols) : Arrays.copyOf(x, cols);
                assertDots(WeightRef.matvec(type, perExpert[chosen[s]], rows, cols, xs), Arrays.copyOfRange(got, s * rows, (s + 1) * rows),
                        dotBounds(type, perExpert[chosen[s]], rows, cols, xs, 1), "expert slot " + s + " perSlot " + perSlot);
            }
        }
    }

    @Test
    void argmaxAndSeededSamplingMatchTheReference() {
        SplittableRandom rnd = new SplittableRandom(107);
        int rows = 3, n = 32003;
        float[] logits = TestData.floats(rnd, rows * n, 10);
        logits[n + 5] = 50;
        logits[n + 7] = 50;  // tie: the lower index wins
        DeviceBuffer out = gpu.device.memory().allocate("argmax", 4L * rows);
        gpu.kernels.argmax(gpu.upload("logits", logits), out, rows, n, gpu.stream);
        int[] got = gpu.ints(out, rows);
        for (int r = 0; r < rows; r++) assertEquals(SamplingRef.argmax(logits, r * n, n), got[r], "row " + r);
        assertEquals(5, got[1]);

        int vocab = 5000;
        float[] l = TestData.floats(rnd, vocab, 4);
        DeviceBuffer dl = gpu.upload("logits", l);
        long seed = 42;
        DeviceBuffer rng = gpu.upload("rng", new long[]{seed, 0});
        DeviceBuffer tok = gpu.device.memory().allocate("token", 4);
        for (int step = 0; step < 20; step++) {
            gpu.kernels.sample(dl, vocab, 0.8f, 40, 0.9f, rng, tok, gpu.stream);
            assertEquals(SamplingRef.sample(l, 0.8f, 40, 0.9f, seed, step), gpu.ints(tok, 1)[0], "draw " + step);
        }
        assertEquals(20L, gpu.longs(rng, 2)[1], "the counter advanced once per draw");
    }

    @Test
    void aCapturedGraphReplaysTheSameWorkAndTwoStreamsGiveIdenticalResults() {
        SplittableRandom rnd = new SplittableRandom(108);
        GgmlType type = GgmlType.Q8_0;
        int dim = 512, rows = 1000;
        MemorySegment w = TestData.weights(type, rows, dim, 31);
        DeviceBuffer dw = uploadWeights(type, w, rows, dim, "w");
        float[] norm = TestData.floats(rnd, dim, 1);
        DeviceBuffer dn = gpu.upload("norm", norm);
        DeviceBuffer x = gpu.device.memory().allocate("x", 4L * dim), h = gpu.device.memory().allocate("h", 4L * dim);
        DeviceBuffer y = gpu.device.memory().allocate("y", 4L * rows), tok = gpu.device.memory().allocate("tok", 4);
        Runnable step = () -> {
            gpu.kernels.rmsnorm(x, dn, h, 1, dim, 1e-5f, gpu.stream);
            gpu.kernels.matvec(type, dw, rows, dim, h, y, gpu.stream);
            gpu.kernels.argmax(y, tok, 1, rows, gpu.stream);
        };
        CudaDevice.CudaGraph graph = gpu.device.capture(gpu.stream, step);
        for (int i = 0; i < 3; i++) {
            float[] xi = TestData.floats(rnd, dim, 2);
            gpu.device.upload(x, 0, MemorySegment.ofArray(xi), gpu.device.memory().allocatePinned("s", 4L * dim), gpu.stream);
            step.run();
            float[] direct = gpu.floats(y, rows);
            int directTok = gpu.ints(tok, 1)[0];
            gpu.device.fill32(y, 0, GpuFixture.POISON, rows, gpu.stream);
            gpu.device.launchGraph(graph, gpu.stream);
            assertArrayEquals(direct, gpu.floats(y, rows), 0f, "graph replay " + i);
            assertEquals(directTok, gpu.ints(tok, 1)[0]);
            // the same two stages split over two streams, ordered by an event: bit-identical
            long second = gpu.device.createStream();
            long done = gpu.device.createEvent();
            gpu.device.fill32(y, 0, GpuFixture.POISON, rows, gpu.stream);
            gpu.kernels.rmsnorm(x, dn, h, 1, dim, 1e-5f, gpu.stream);
            gpu.device.record(done, gpu.stream);
            gpu.device.waitEvent(second, done);
            gpu.kernels.matvec(type, dw, rows, dim, h, y, second);
            gpu.device.synchronize(second);
            assertArrayEquals(direct, gpu.floats(y, rows), 0f, "two streams " + i);
        }
    }
}
