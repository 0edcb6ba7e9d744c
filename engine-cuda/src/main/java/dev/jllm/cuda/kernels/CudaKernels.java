package dev.jllm.cuda.kernels;

import dev.jllm.cuda.ffm.CudaDevice;
import dev.jllm.cuda.ffm.CudaFunction;
import dev.jllm.cuda.ffm.DeviceBuffer;
import dev.jllm.cuda.ffm.KernelArgs;
import dev.jllm.cuda.ffm.LaunchConfig;
import dev.jllm.gguf.GgmlType;

import java.io.IOException;
import java.io.InputStream;
import java.util.EnumMap;
import java.util.Map;

/**
 * Typed launchers for every {@link Kernel}: each method checks shapes and buffer sizes (naming the
 * buffer), computes the launch configuration documented in the kernel's {@code .cu} file, and enqueues
 * the launch on a stream. The module is loaded once from the fatbin jar resource.
 */
public final class CudaKernels {
    /** Threads per block of the one-warp-per-row kernels (8 rows per block). */
    public static final int MATVEC_BLOCK = 256;
    public static final int MATVEC_ROWS_PER_BLOCK = 8;
    /** Keys per split of the decode attention (flash-decoding). */
    /** Decode attention splits a sequence into at most this many chunks of at least {@link #DECODE_MIN_CHUNK} keys. */
    public static final int DECODE_MAX_SPLITS = 64, DECODE_MIN_CHUNK = 32;
    public static final int PREFILL_QUERIES_PER_BLOCK = 16;
    public static final int MAX_HEAD_DIM = 256;
    public static final int SAMPLE_MAX_K = 256;

    private final CudaDevice device;
    private final Map<Kernel, CudaFunction> functions = new EnumMap<>(Kernel.class);

    public CudaKernels(CudaDevice device) {
        this(device, loadFatbin());
    }

    public CudaKernels(CudaDevice device, byte[] fatbin) {
        this.device = device;
        long module = device.loadModule(fatbin, "jllm-kernels.fatbin");
        for (Kernel k : Kernel.values()) functions.put(k, device.function(module, k.symbol, k.params));
        // 48 KiB of tiles at head_dim 256 plus static shared memory: above the default 48 KiB limit
        device.setMaxDynamicSharedMemory(functions.get(Kernel.ATTENTION_PREFILL), prefillConfig(1, 1, MAX_HEAD_DIM).sharedMemBytes());
        // one-token Q8_0/Q4_0 products stage x: up to 48 KiB, which with the kernels' static shared memory (the
        // fused norm's reduction scratch) is above the default limit of 48 KiB in all (a 12288-wide row failed to launch)
        for (Kernel k : new Kernel[]{Kernel.MATVEC_Q8_0, Kernel.MATVEC_Q4_0, Kernel.MATVEC_MULTI_Q8_0, Kernel.MATVEC_MULTI_Q4_0}) {
            device.setMaxDynamicSharedMemory(functions.get(k), MATVEC_STAGE_MAX_BYTES);
        }
        // batched Q8_0/Q4_0 products stage several tokens' inputs: up to 96 KiB
        device.setMaxDynamicSharedMemory(functions.get(Kernel.MATVEC_BATCH_Q8_0), BATCH_STAGE_MAX_BYTES);
        device.setMaxDynamicSharedMemory(functions.get(Kernel.MATVEC_BATCH_Q4_0), BATCH_STAGE_MAX_BYTES);
    }

    /** The fatbin bytes from the classpath; a clear error when the build had no nvcc. */
    public static byte[] loadFatbin() {
        try (InputStream in = CudaKernels.class.getResourceAsStream(Kernel.FATBIN_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("CUDA kernels not built: resource " + Kernel.FATBIN_RESOURCE
                        + " is missing (this jar was built without nvcc; see engine-cuda/build-fatbin.sh)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + Kernel.FATBIN_RESOURCE, e);
        }
    }

    public CudaFunction function(Kernel k) {
        return functions.get(k);
    }

    public CudaDevice device() {
        return device;
    }

    // ---- launch configurations (pure functions, tested without a GPU)

    public static LaunchConfig matvecConfig(int rows, int slots) {
        return LaunchConfig.of(LaunchConfig.blocks(rows, MATVEC_ROWS_PER_BLOCK), slots, MATVEC_BLOCK);
    }

    public static LaunchConfig ropeConfig(int nTokens, int nHeads, int nKvHeads, int headDim) {
        int threads = Math.min(512, Math.max(32, (headDim / 2 + 31) / 32 * 32));
        return LaunchConfig.of(nTokens, nHeads + nKvHeads, threads);
    }

    /**
     * Keys per decode-attention split: small chunks give one step many blocks (a batch-1 step at position 256
     * has 8 splits per head, not 1), capped at {@link #DECODE_MAX_SPLITS} splits so partial results stay small.
     */
    public static int decodeChunk(int span) {
        return LaunchConfig.blocks(LaunchConfig.blocks(span, DECODE_MAX_SPLITS), DECODE_MIN_CHUNK) * DECODE_MIN_CHUNK;
    }

    /** Splits of the decode attention for a span (keys attended at most) of {@code span}. */
    public static int decodeSplits(int span) {
        return LaunchConfig.blocks(span, decodeChunk(span));
    }

    /**
     * The most splits of any span up to {@code maxSpan}: what partial results must hold room for when the span
     * of a launch may be shorter (a cache of a shorter context, a step before the span is full). Not
     * {@code decodeSplits(maxSpan)}: splits do not grow with the span (2048 keys: 64 splits of 32; 3000 keys:
     * 47 of 64), but they never exceed {@code span / DECODE_MIN_CHUNK} (rounded up) or {@link #DECODE_MAX_SPLITS}.
     */
    public static int decodeMaxSplits(int maxSpan) {
        return Math.min(DECODE_MAX_SPLITS, LaunchConfig.blocks(maxSpan, DECODE_MIN_CHUNK));
    }

    public static LaunchConfig decodePartialConfig(int nSeqs, int nHeads, int headDim, int span) {
        return LaunchConfig.of(decodeSplits(span), nHeads, nSeqs, 128, ((headDim + 3) / 4 * 4 + decodeChunk(span)) * 4);
    }


    public static LaunchConfig prefillConfig(int nTokens, int nHeads, int headDim) {
        return LaunchConfig.of(LaunchConfig.blocks(nTokens, PREFILL_QUERIES_PER_BLOCK), nHeads, 1, 256,
                (3 * PREFILL_QUERIES_PER_BLOCK * headDim + PREFILL_QUERIES_PER_BLOCK) * 4);  // Q, K (row + 1 pad), V tiles
    }

    public static LaunchConfig elementwiseConfig(long n) {
        return LaunchConfig.of(LaunchConfig.blocks(n, 256), 256);
    }

    // ---- launchers

    public void embedding(DeviceBuffer table, GgmlType type, int vocab, int dim, DeviceBuffer ids, DeviceBuffer out,
                          int nTokens, long stream) {
        DeviceLayout.check(table.label(), type, vocab, dim);
        need(table, DeviceLayout.bytes(type, vocab, dim));
        need(ids, 4L * nTokens);
        need(out, 4L * nTokens * dim);
        launch(Kernel.EMBEDDING, LaunchConfig.of(nTokens, 256), stream, KernelArgs.create()
                .ptr(table).i32(type.id).i32(vocab).i32(dim).ptr(ids).ptr(out).i32(nTokens));
    }

    public void rmsnorm(DeviceBuffer x, DeviceBuffer w, DeviceBuffer out, int nRows, int dim, float eps, long stream) {
        need(x, 4L * nRows * dim);
        need(w, 4L * dim);
        need(out, 4L * nRows * dim);
        // one float4 per thread where the row allows (2048 wide: 512 threads), at least two warps, at most 1024
        launch(Kernel.RMSNORM, LaunchConfig.of(nRows, Math.clamp((dim / 4 + 31) / 32 * 32L, 64, 1024)), stream, KernelArgs.create()
                .ptr(x).ptr(w).ptr(out).i32(nRows).i32(dim).f32(eps));
    }

    /** {@code y[rows] = W . x[cols]} with W in device layout. */
    public void matvec(GgmlType type, DeviceBuffer w, int rows, int cols, DeviceBuffer x, DeviceBuffer y, long stream) {
        checkMatvec(type, w, rows, cols, y);
        need(x, 4L * cols);
        launchMatvec(type, w, rows, cols, x, null, 0f, y, 0, stream);
    }

    /** Matvec modes (matvec.cuh): the input is rmsnorm(x) * aux, or silu(x) * aux; the product is added to y. */
    static final int IN_NORM = 1, IN_GATED = 2, OUT_ADD = 4;

    private void launchMatvec(GgmlType type, DeviceBuffer w, int rows, int cols, DeviceBuffer x, DeviceBuffer aux, float eps,
                              DeviceBuffer y, int mode, long stream) {
        LaunchConfig cfg = matvecConfig(rows, 1);
        int staged = stagedInputBytes(type, cols);
        if ((mode & (IN_NORM | IN_GATED)) != 0 && staged == 0) throw new IllegalStateException("input mode " + mode + " needs a staged input");
        if (staged > 0) cfg = new LaunchConfig(cfg.gridX(), 1, 1, cfg.blockX(), 1, 1, staged);
        launch(matvecKernel(type), cfg, stream, KernelArgs.create()
                .ptr(w).ptr(x).rawPtr(aux == null ? 0 : aux.address()).f32(eps).ptr(y).i32(rows).i32(cols).i32(mode));
    }

    /**
     * The input of a projection: a buffer, or rmsnorm(x) * w, or silu(g) * u. For one token whose matvec
     * kernel stages its input in shared memory, the norm or the gate is applied there, fused (no launch of
     * its own, no round trip through memory); otherwise it is computed once, on first use, into {@code out}.
     */
    public final class Input {
        private final DeviceBuffer x, aux, out;
        private final int mode, nTokens, dim;
        private final float eps;
        private boolean materialized;

        private Input(DeviceBuffer x, DeviceBuffer aux, DeviceBuffer out, int mode, float eps, int nTokens, int dim) {
            this.x = x;
            this.aux = aux;
            this.out = out;
            this.mode = mode;
            this.eps = eps;
            this.nTokens = nTokens;
            this.dim = dim;
            materialized = mode == 0;
        }

        /** The input as a buffer ({@code out}, computed now if not yet). */
        public DeviceBuffer materialize(long stream) {
            if (!materialized) {
                if (mode == IN_NORM) rmsnorm(x, aux, out, nTokens, dim, eps, stream);
                else swiglu(x, aux, out, nTokens * dim, stream);
                materialized = true;
            }
            return mode == 0 ? x : out;
        }
    }

    /** {@code x} as it is. */
    public Input plain(DeviceBuffer x, int nTokens, int dim) {
        return new Input(x, null, null, 0, 0f, nTokens, dim);
    }

    /** rmsnorm(x) * w, in {@code out} where it has to be materialized. */
    public Input normed(DeviceBuffer x, DeviceBuffer w, float eps, DeviceBuffer out, int nTokens, int dim) {
        return new Input(x, w, out, IN_NORM, eps, nTokens, dim);
    }

    /** silu(g) * u, in {@code out} (which may be g) where it has to be materialized. */
    public Input gated(DeviceBuffer g, DeviceBuffer u, DeviceBuffer out, int nTokens, int dim) {
        return new Input(g, u, out, IN_GATED, 0f, nTokens, dim);
    }

    /** Whether a one-token product of this type and width applies norms and gates to its input itself. */
    public boolean fusesInput(GgmlType type, int cols) {
        return fuseInputs && stagedInputBytes(type, cols) > 0;
    }

    /**
     * Off unless -Djllm.cuda.matvec.fuse=true: on an H100 (engine-cuda/BENCHMARKS.md) every staging block
     * reading x twice for the norm cost more than the separate rmsnorm and swiglu launches it saves.
     */
    private volatile boolean fuseInputs = "true".equals(System.getProperty("jllm.cuda.matvec.fuse"));

    /** Fuses norms and gates into the staged inputs of one-token products, or not (tests and benchmarks). */
    public void fuseInputs(boolean on) {
        fuseInputs = on;
    }

    /** {@code y = W . in} for {@code in.nTokens} tokens ({@link #project}), the input fused where it can be. */
    public void project(GgmlType type, DeviceBuffer w, int rows, int cols, Input in, DeviceBuffer y, long stream) {
        if (in.dim != cols) throw new IllegalArgumentException(w.label() + ": input of " + in.dim + " for " + cols + " columns");
        if (in.nTokens == 1 && !in.materialized && fusesInput(type, cols)) {
            checkMatvec(type, w, rows, cols, y);
            need(in.x, 4L * cols);
            need(in.aux, 4L * cols);
            launchMatvec(type, w, rows, cols, in.x, in.aux, in.eps, y, in.mode, stream);
        } else {
            project(type, w, rows, cols, in.materialize(stream), y, in.nTokens, stream);
        }
    }

    /**
     * The residual connection {@code x += W . in}: for one token added by the matvec itself (and the input
     * fused where it can be), else through {@code tmp} ({@code in.nTokens * rows} floats) and {@link #residualAdd}.
     */
    public void projectAdd(GgmlType type, DeviceBuffer w, int rows, int cols, Input in, DeviceBuffer x, DeviceBuffer tmp, long stream) {
        if (in.nTokens == 1) {
            if (in.dim != cols) throw new IllegalArgumentException(w.label() + ": input of " + in.dim + " for " + cols + " columns");
            checkMatvec(type, w, rows, cols, x);
            boolean fuse = !in.materialized && fusesInput(type, cols);
            DeviceBuffer src = fuse ? in.x : in.materialize(stream);
            need(src, 4L * cols);
            if (fuse) need(in.aux, 4L * cols);
            // the kernel reads its input while other blocks add to x (both __restrict__): they must not overlap
            checkDisjoint(w.label(), src, 4L * cols, x, 4L * rows);
            if (fuse) checkDisjoint(w.label(), in.aux, 4L * cols, x, 4L * rows);
            launchMatvec(type, w, rows, cols, src, fuse ? in.aux : null, in.eps, x, fuse ? in.mode | OUT_ADD : OUT_ADD, stream);
        } else {
            project(type, w, rows, cols, in, tmp, stream);
            residualAdd(x, tmp, in.nTokens * rows, stream);
        }
    }

    private static void checkDisjoint(String tensor, DeviceBuffer in, long inBytes, DeviceBuffer out, long outBytes) {
        if (in.address() < out.address() + outBytes && out.address() < in.address() + inBytes) {
            throw new IllegalArgumentException(tensor + ": input '" + in.label() + "' overlaps '" + out.label() + "', which the product adds to");
        }
    }

    /** Largest x a matvec stages in shared memory (its kernels are opted into this much at start). */
    public static final int MATVEC_STAGE_MAX_BYTES = 48 * 1024;

    private volatile boolean stageMatvecInput = !"false".equals(System.getProperty("jllm.cuda.matvec.stage"));

    /**
     * Dynamic shared memory for a matvec of this type and width: cols * 4 bytes when its kernel stages x in
     * shared memory (Q8_0 and Q4_0 with cols % 8 == 0, up to {@link #MATVEC_STAGE_MAX_BYTES}), else 0.
     */
    public int stagedInputBytes(GgmlType type, int cols) {
        // F32/F16/BF16 lanes read x 16-32 bytes apart: faster from L1 (BENCHMARKS.md)
        boolean stages = type == GgmlType.Q8_0 || type == GgmlType.Q4_0;
        return stageMatvecInput && stages && cols % 8 == 0 && 4L * cols <= MATVEC_STAGE_MAX_BYTES ? 4 * cols : 0;
    }

    /** Turns the staging of matvec inputs off (benchmarks compare both; -Djllm.cuda.matvec.stage=false at start). */
    public void stageMatvecInput(boolean on) {
        stageMatvecInput = on;
    }

    /**
     * One token's products of several matrices of one type and width that read the same input, in one launch:
     * {@code y[k] = w[k] . x} for two or three matrices (a layer's wq, wk, wv).
     */
    public void matvecMulti(GgmlType type, DeviceBuffer[] w, int[] rows, int cols, DeviceBuffer x, DeviceBuffer[] y, long stream) {
        if (w.length < 2 || w.length > 3 || rows.length != w.length || y.length != w.length) {
            throw new IllegalArgumentException("2 or 3 matrices, with as many row counts and outputs");
        }
        long total = 0;
        for (int i = 0; i < w.length; i++) {
            checkMatvec(type, w[i], rows[i], cols, y[i]);
            total += rows[i];
        }
        need(x, 4L * cols);
        launchMulti(type, w[0], w[1], w.length == 3 ? w[2] : null, rows[0], rows[1], w.length == 3 ? rows[2] : 0, cols, x,
                y[0], y[1], w.length == 3 ? y[2] : null, 0, (int) total, stream);
    }

    /** One token's {@code out = silu(w1 . x) * (w3 . x)} (SwiGLU's two products and its gate) in one launch. */
    public void matvecSwiglu(GgmlType type, DeviceBuffer w1, DeviceBuffer w3, int rows, int cols, DeviceBuffer x, DeviceBuffer out, long stream) {
        checkMatvec(type, w1, rows, cols, out);
        checkMatvec(type, w3, rows, cols, out);
        need(x, 4L * cols);
        launchMulti(type, w1, w3, null, rows, rows, 0, cols, x, out, null, null, 1, rows, stream);
    }

    private void checkMatvec(GgmlType type, DeviceBuffer w, int rows, int cols, DeviceBuffer y) {
        DeviceLayout.check(w.label(), type, rows, cols);
        need(w, DeviceLayout.bytes(type, rows, cols));
        need(y, 4L * rows);
    }

    private void launchMulti(GgmlType type, DeviceBuffer w0, DeviceBuffer w1, DeviceBuffer w2, int rows0, int rows1, int rows2,
                             int cols, DeviceBuffer x, DeviceBuffer y0, DeviceBuffer y1, DeviceBuffer y2, int mode, int gridRows,
                             long stream) {
        LaunchConfig cfg = new LaunchConfig(LaunchConfig.blocks(gridRows, MATVEC_ROWS_PER_BLOCK), 1, 1, MATVEC_BLOCK, 1, 1,
                stagedInputBytes(type, cols));
        launch(matvecMultiKernel(type), cfg, stream, KernelArgs.create()
                .ptr(w0).ptr(w1).rawPtr(w2 == null ? 0 : w2.address()).ptr(x)
                .ptr(y0).rawPtr(y1 == null ? 0 : y1.address()).rawPtr(y2 == null ? 0 : y2.address())
                .i32(rows0).i32(rows1).i32(rows2).i32(cols).i32(mode));
    }


    /** Tokens up to which {@link #project} uses the batched matvec rather than the tiled matmul. */
    public static final int BATCH_MATVEC_MAX_TOKENS = 32;
    public static final int BATCH_TOKENS_PER_BLOCK = 4;

    /**
     * {@code Y[t][rows] = W . X[t][cols]} for {@code nTokens} tokens, by the kernel that suits the count:
     * matvec (1), batched matvec (up to {@link #BATCH_MATVEC_MAX_TOKENS}), tiled matmul (more).
     */
    public void project(GgmlType type, DeviceBuffer w, int rows, int cols, DeviceBuffer x, DeviceBuffer y, int nTokens, long stream) {
        if (nTokens == 1) matvec(type, w, rows, cols, x, y, stream);
        else if (nTokens <= BATCH_MATVEC_MAX_TOKENS && (type != GgmlType.F32 || cols % 4 == 0)) matvecBatch(type, w, rows, cols, x, y, nTokens, stream);
        else matmul(type, w, rows, cols, x, y, nTokens, stream);
    }

    /** {@code Y[t][rows] = W . X[t][cols]} by warp-per-row dot products, a few tokens per block. */
    public void matvecBatch(GgmlType type, DeviceBuffer w, int rows, int cols, DeviceBuffer x, DeviceBuffer y, int nTokens, long stream) {
        DeviceLayout.check(w.label(), type, rows, cols);
        if (type == GgmlType.F32 && cols % 4 != 0) throw new IllegalArgumentException(w.label() + ": batched F32 rows need cols % 4 == 0, got " + cols);
        need(w, DeviceLayout.bytes(type, rows, cols));
        need(x, 4L * nTokens * cols);
        need(y, 4L * nTokens * rows);
        int staged = batchStagedTokens(type, cols, nTokens);
        int perBlock = staged > 0 ? staged : BATCH_TOKENS_PER_BLOCK;
        launch(matvecBatchKernel(type), new LaunchConfig(LaunchConfig.blocks(rows, MATVEC_ROWS_PER_BLOCK),
                LaunchConfig.blocks(nTokens, perBlock), 1, MATVEC_BLOCK, 1, 1, 4 * staged * cols), stream,
                KernelArgs.create().ptr(w).ptr(x).ptr(y).i32(rows).i32(cols).i32(nTokens));
    }

    /** Shared memory a batched Q8_0/Q4_0 block may stage its tokens' inputs in (opted into at start). */
    public static final int BATCH_STAGE_MAX_BYTES = 96 * 1024, BATCH_STAGE_MAX_TOKENS = 8;

    /**
     * Tokens per block whose inputs a batched product stages in shared memory, each weight then dequantized
     * once for all of them (Q8_0, Q4_0: as many as fit in {@link #BATCH_STAGE_MAX_BYTES}, at most 8); 0 when
     * its kernel reads the inputs from global memory, one token after another.
     */
    public int batchStagedTokens(GgmlType type, int cols, int nTokens) {
        if (!stageMatvecInput || (type != GgmlType.Q8_0 && type != GgmlType.Q4_0) || cols % 8 != 0) return 0;
        int fit = BATCH_STAGE_MAX_BYTES / (4 * cols);
        return Math.min(Math.min(fit, BATCH_STAGE_MAX_TOKENS), nTokens);
    }

    /** {@code Y[t][rows] = W . X[t][cols]} for {@code nTokens} tokens (prefill). */
    public void matmul(GgmlType type, DeviceBuffer w, int rows, int cols, DeviceBuffer x, DeviceBuffer y, int nTokens, long stream) {
        DeviceLayout.check(w.label(), type, rows, cols);
        need(w, DeviceLayout.bytes(type, rows, cols));
        need(x, 4L * nTokens * cols);
        need(y, 4L * nTokens * rows);
        launch(Kernel.MATMUL, new LaunchConfig(LaunchConfig.blocks(rows, 64), LaunchConfig.blocks(nTokens, 64), 1, 256, 1, 1, 0),
                stream, KernelArgs.create().ptr(w).i32(type.id).ptr(x).ptr(y).i32(rows).i32(cols).i32(nTokens));
    }

    /**
     * RoPE of q and k (pairing 0 adjacent, 1 half-split) and the cache write at slot pos mod window. The
     * tokens of one sequence in one call must fall on distinct slots: at most {@code window} of them.
     */
    public void ropeKv(DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer kCache, DeviceBuffer vCache,
                       DeviceBuffer positions, DeviceBuffer seqSlots, DeviceBuffer invFreq, int nTokens, int nHeads,
                       int nKvHeads, int headDim, int rotDim, int pairing, int window, int nSeqs, long stream) {
        ropeKv(q, k, v, kCache, vCache, positions, seqSlots, invFreq, nTokens, nHeads, nKvHeads, headDim, rotDim, pairing,
                window, nSeqs, nSeqs * window, stream);
    }

    /**
     * {@link #ropeKv} on caches that hold only {@code cacheSlots <= window} slots so far (a growing cache:
     * the positions written and read must stay below that).
     */
    public void ropeKv(DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer kCache, DeviceBuffer vCache,
                       DeviceBuffer positions, DeviceBuffer seqSlots, DeviceBuffer invFreq, int nTokens, int nHeads,
                       int nKvHeads, int headDim, int rotDim, int pairing, int window, int nSeqs, int cacheSlots, long stream) {
        checkHeads(nHeads, nKvHeads, headDim);
        checkSlots(cacheSlots, window, nSeqs);
        if (rotDim < 2 || rotDim > headDim || rotDim % 2 != 0) throw new IllegalArgumentException("rot_dim " + rotDim + " for head_dim " + headDim);
        if (pairing != 0 && pairing != 1) throw new IllegalArgumentException("pairing must be 0 (adjacent) or 1 (half-split), got " + pairing);
        need(q, 4L * nTokens * nHeads * headDim);
        need(k, 4L * nTokens * nKvHeads * headDim);
        need(v, 4L * nTokens * nKvHeads * headDim);
        need(kCache, 4L * cacheSlots * nKvHeads * headDim);
        need(vCache, 4L * cacheSlots * nKvHeads * headDim);
        need(positions, 4L * nTokens);
        need(seqSlots, 4L * nTokens);
        need(invFreq, 4L * (rotDim / 2));
        launch(Kernel.ROPE_KV, ropeConfig(nTokens, nHeads, nKvHeads, headDim), stream, KernelArgs.create()
                .ptr(q).ptr(k).ptr(v).ptr(kCache).ptr(vCache).ptr(positions).ptr(seqSlots).ptr(invFreq)
                .i32(nTokens).i32(nHeads).i32(nKvHeads).i32(headDim).i32(rotDim).i32(pairing).i32(window));
    }

    /**
     * Decode attention for {@code nSeqs} sequences, one token each. {@code partO} needs
     * {@code nSeqs * nHeads * decodeSplits(span) * headDim} floats, {@code partMl} twice the splits.
     */
    public void attentionDecode(DeviceBuffer q, DeviceBuffer kCache, DeviceBuffer vCache, DeviceBuffer positions,
                                DeviceBuffer partO, DeviceBuffer partMl, DeviceBuffer counters, DeviceBuffer out, int nSeqs,
                                int nHeads, int nKvHeads, int headDim, int window, int span, float scale, long stream) {
        attentionDecode(q, kCache, vCache, positions, partO, partMl, counters, out, nSeqs, nHeads, nKvHeads, headDim, window,
                span, scale, nSeqs * window, stream);
    }

    /** {@link #attentionDecode} on caches holding {@code cacheSlots} slots so far (one sequence, growing). */
    public void attentionDecode(DeviceBuffer q, DeviceBuffer kCache, DeviceBuffer vCache, DeviceBuffer positions,
                                DeviceBuffer partO, DeviceBuffer partMl, DeviceBuffer counters, DeviceBuffer out, int nSeqs,
                                int nHeads, int nKvHeads, int headDim, int window, int span, float scale, int cacheSlots,
                                long stream) {
        checkHeads(nHeads, nKvHeads, headDim);
        if (span < 1 || span > window) throw new IllegalArgumentException("span " + span + " must be in 1.." + window);
        checkSlots(cacheSlots, window, nSeqs);
        int splits = decodeSplits(span);
        need(q, 4L * nSeqs * nHeads * headDim);
        need(kCache, 4L * cacheSlots * nKvHeads * headDim);
        need(vCache, 4L * cacheSlots * nKvHeads * headDim);
        need(positions, 4L * nSeqs);
        need(partO, 4L * nSeqs * nHeads * splits * headDim);
        need(partMl, 8L * nSeqs * nHeads * splits);
        need(counters, 4L * nSeqs * nHeads);
        need(out, 4L * nSeqs * nHeads * headDim);
        LaunchConfig cfg = decodePartialConfig(nSeqs, nHeads, headDim, span);
        if (cfg.sharedMemBytes() > Math.max(DECODE_DEFAULT_SHARED, decodeSharedReserved)) {
            throw new IllegalArgumentException("decode attention over " + span + " keys needs " + cfg.sharedMemBytes()
                    + " bytes of shared memory: reserveDecodeSpan(" + headDim + ", " + span + ") first");
        }
        launch(Kernel.ATTENTION_DECODE, cfg, stream, KernelArgs.create()
                .ptr(q).ptr(kCache).ptr(vCache).ptr(positions).ptr(partO).ptr(partMl).ptr(counters).ptr(out)
                .i32(nHeads).i32(nKvHeads).i32(headDim).i32(window).i32(span).i32(decodeChunk(span)).i32(splits).f32(scale));
    }

    /**
     * Dynamic shared memory decode attention takes without an opt-in: the default 48 KiB less room for its own
     * static shared memory (2192 bytes on sm_90). Spans up to about 690K keys at head_dim 128 stay below it.
     */
    static final int DECODE_DEFAULT_SHARED = 44 * 1024;
    private int decodeSharedReserved;

    /**
     * Lets {@link #attentionDecode} run over spans up to {@code maxSpan} at {@code headDim}: its chunk of scores
     * grows with the span (a 1M-key context: 16384 keys, 64 KiB), past the default shared memory limit. Only raises
     * the limit; a span too long for the device fails here, naming the kernel, not at a launch.
     */
    public void reserveDecodeSpan(int headDim, int maxSpan) {
        int bytes = decodePartialConfig(1, 1, headDim, maxSpan).sharedMemBytes();
        if (bytes > DECODE_DEFAULT_SHARED && bytes > decodeSharedReserved) {
            device.setMaxDynamicSharedMemory(functions.get(Kernel.ATTENTION_DECODE), bytes);
            decodeSharedReserved = bytes;
        }
    }

    /**
     * The split counters {@link #attentionDecode} needs ({@code nSeqs * nHeads} int32), zeroed on {@code stream};
     * each launch leaves them zero again.
     */
    public DeviceBuffer decodeCounters(int nSeqs, int nHeads, long stream) {
        DeviceBuffer b = device.memory().allocate("attention split counters", 4L * nSeqs * nHeads);
        device.fill32(b, 0, 0, (long) nSeqs * nHeads, stream);
        return b;
    }

    public void attentionPrefill(DeviceBuffer q, DeviceBuffer kCache, DeviceBuffer vCache, DeviceBuffer positions,
                                 DeviceBuffer seqSlots, DeviceBuffer out, int nTokens, int nHeads, int nKvHeads,
                                 int headDim, int window, int span, int nSeqs, float scale, long stream) {
        attentionPrefill(q, kCache, vCache, positions, seqSlots, out, nTokens, nHeads, nKvHeads, headDim, window, span, nSeqs,
                scale, nSeqs * window, stream);
    }

    /** {@link #attentionPrefill} on caches holding {@code cacheSlots} slots so far (one sequence, growing). */
    public void attentionPrefill(DeviceBuffer q, DeviceBuffer kCache, DeviceBuffer vCache, DeviceBuffer positions,
                                 DeviceBuffer seqSlots, DeviceBuffer out, int nTokens, int nHeads, int nKvHeads,
                                 int headDim, int window, int span, int nSeqs, float scale, int cacheSlots, long stream) {
        checkHeads(nHeads, nKvHeads, headDim);
        if (span < 1 || span > window) throw new IllegalArgumentException("span " + span + " must be in 1.." + window);
        checkSlots(cacheSlots, window, nSeqs);
        need(q, 4L * nTokens * nHeads * headDim);
        need(kCache, 4L * cacheSlots * nKvHeads * headDim);
        need(vCache, 4L * cacheSlots * nKvHeads * headDim);
        need(positions, 4L * nTokens);
        need(seqSlots, 4L * nTokens);
        need(out, 4L * nTokens * nHeads * headDim);
        launch(Kernel.ATTENTION_PREFILL, prefillConfig(nTokens, nHeads, headDim), stream, KernelArgs.create()
                .ptr(q).ptr(kCache).ptr(vCache).ptr(positions).ptr(seqSlots).ptr(out)
                .i32(nTokens).i32(nHeads).i32(nKvHeads).i32(headDim).i32(window).i32(span).f32(scale));
    }

    public void swiglu(DeviceBuffer gate, DeviceBuffer up, DeviceBuffer out, int n, long stream) {
        need(gate, 4L * n);
        need(up, 4L * n);
        need(out, 4L * n);
        launch(Kernel.SWIGLU, elementwiseConfig(n), stream, KernelArgs.create().ptr(gate).ptr(up).ptr(out).i32(n));
    }

    public void residualAdd(DeviceBuffer x, DeviceBuffer delta, int n, long stream) {
        need(x, 4L * n);
        need(delta, 4L * n);
        launch(Kernel.RESIDUAL_ADD, elementwiseConfig(n), stream, KernelArgs.create().ptr(x).ptr(delta).i32(n));
    }

    /** Top-k routing; mode 0 = softmax over the chosen (Mixtral), 1 = softmax over all, 2 = 1 renormalised. */
    public void moeRoute(DeviceBuffer logits, DeviceBuffer expertIds, DeviceBuffer gateWeights, int nTokens,
                         int nExperts, int topK, int mode, long stream) {
        if (nExperts < 1 || nExperts > 1024) throw new IllegalArgumentException("n_experts " + nExperts + " outside 1..1024");
        if (topK < 1 || topK > Math.min(32, nExperts)) throw new IllegalArgumentException("top_k " + topK + " outside 1.." + Math.min(32, nExperts));
        need(logits, 4L * nTokens * nExperts);
        need(expertIds, 4L * nTokens * topK);
        need(gateWeights, 4L * nTokens * topK);
        launch(Kernel.MOE_ROUTE, LaunchConfig.of(nTokens, 32), stream, KernelArgs.create()
                .ptr(logits).ptr(expertIds).ptr(gateWeights).i32(nTokens).i32(nExperts).i32(topK).i32(mode));
    }

    /** Expert products for {@code slots} routed experts whose ids are read on the device. */
    public void moeMatvec(GgmlType type, DeviceBuffer w, int nExperts, int rows, int cols, DeviceBuffer expertIds,
                          DeviceBuffer x, boolean xPerSlot, DeviceBuffer y, int slots, long stream) {
        DeviceLayout.check(w.label(), type, rows, cols);
        long expertBytes = DeviceLayout.expertStride(type, rows, cols);
        need(w, expertBytes * (nExperts - 1) + DeviceLayout.bytes(type, rows, cols));
        need(expertIds, 4L * slots);
        need(x, 4L * cols * (xPerSlot ? slots : 1));
        need(y, 4L * rows * slots);
        launch(moeKernel(type), matvecConfig(rows, slots), stream, KernelArgs.create()
                .ptr(w).i64(expertBytes).ptr(expertIds).ptr(x).i32(xPerSlot ? cols : 0).ptr(y).i32(rows).i32(cols));
    }

    public void moeCombine(DeviceBuffer y, DeviceBuffer gateWeights, DeviceBuffer x, int slots, int dim, long stream) {
        need(y, 4L * slots * dim);
        need(gateWeights, 4L * slots);
        need(x, 4L * dim);
        launch(Kernel.MOE_COMBINE, elementwiseConfig(dim), stream, KernelArgs.create().ptr(y).ptr(gateWeights).ptr(x).i32(slots).i32(dim));
    }

    public void argmax(DeviceBuffer logits, DeviceBuffer out, int nRows, int n, long stream) {
        need(logits, 4L * nRows * n);
        need(out, 4L * nRows);
        launch(Kernel.ARGMAX, LaunchConfig.of(nRows, 1024), stream, KernelArgs.create().ptr(logits).ptr(out).i32(n));
    }

    /** Top-k / top-p sampling; {@code rng} holds {seed, counter} as two uint64 and is advanced on the device. */
    public void sample(DeviceBuffer logits, int n, float temperature, int topK, float topP, DeviceBuffer rng,
                       DeviceBuffer out, long stream) {
        need(logits, 4L * n);
        need(rng, 16);
        need(out, 4);
        launch(Kernel.SAMPLE, LaunchConfig.of(1, 1024), stream, KernelArgs.create()
                .ptr(logits).i32(n).f32(temperature).i32(topK).f32(topP).ptr(rng).ptr(out));
    }

    /** Fills the first {@code words} 32-bit words of {@code p} with hashed bits {@code & mask | set}. */
    public void fillRandom(DeviceBuffer p, long words, long seed, int mask, int set, long stream) {
        need(p, 4 * words);
        launch(Kernel.FILL_RANDOM, LaunchConfig.of((int) Math.min(65535, LaunchConfig.blocks(words, 256)), 256), stream,
                KernelArgs.create().ptr(p).i64(words).i64(seed).i32(mask).i32(set));
    }

    /** The mask that keeps every f16, bf16 and f32 view of random words finite and below 1 in magnitude. */
    public static final int FINITE_MASK = 0xBBFFBBFF;

    // ----

    public static Kernel matvecKernel(GgmlType type) {
        return ofType("MATVEC_", type, "matvec");
    }

    public static Kernel matvecBatchKernel(GgmlType type) {
        return ofType("MATVEC_BATCH_", type, "batched matvec");
    }

    public static Kernel moeKernel(GgmlType type) {
        return ofType("MOE_MATVEC_", type, "expert matvec");
    }

    public static Kernel matvecMultiKernel(GgmlType type) {
        return ofType("MATVEC_MULTI_", type, "matvec");
    }

    /** Every matvec family has a kernel for each device-layout type, named family + type ({@code MATVEC_Q4_K}). */
    private static Kernel ofType(String family, GgmlType type, String what) {
        if (!DeviceLayout.supported(type)) throw new IllegalArgumentException("no CUDA " + what + " for " + type);
        return Kernel.valueOf(family + type.name());
    }

    private static void checkHeads(int nHeads, int nKvHeads, int headDim) {
        if (nKvHeads < 1 || nHeads % nKvHeads != 0) throw new IllegalArgumentException("n_heads " + nHeads + " not a multiple of n_kv_heads " + nKvHeads);
        if (headDim < 1 || headDim > MAX_HEAD_DIM) throw new IllegalArgumentException("head_dim " + headDim + " outside 1.." + MAX_HEAD_DIM);
    }

    /** Held slots: the whole cache of every sequence, or (one sequence) a prefix of its window. */
    private static void checkSlots(int cacheSlots, int window, int nSeqs) {
        if (cacheSlots != nSeqs * window && (nSeqs != 1 || cacheSlots < 1 || cacheSlots > window)) {
            throw new IllegalArgumentException("cache slots " + cacheSlots + " for " + nSeqs + " sequence(s) of window " + window);
        }
    }

    private static void need(DeviceBuffer b, long bytes) {
        if (b.bytes() < bytes) throw new IllegalArgumentException("device buffer '" + b.label() + "' has " + b.bytes() + " bytes, needs " + bytes);
    }

    private void launch(Kernel k, LaunchConfig cfg, long stream, KernelArgs args) {
        LaunchObserver o = observer;
        if (o != null) o.before(k, cfg, stream);
        device.launch(functions.get(k), cfg, stream, args);
        if (o != null) o.after(k, cfg, stream);
    }

    /** Sees every launch of these kernels, e.g. to time each with events (benchmarks; never while capturing). */
    public interface LaunchObserver {
        void before(Kernel k, LaunchConfig cfg, long stream);

        void after(Kernel k, LaunchConfig cfg, long stream);
    }

    private volatile LaunchObserver observer;

    /** Sets (or, with null, removes) the {@link LaunchObserver}. */
    public void observeLaunches(LaunchObserver o) {
        observer = o;
    }
}
