package dev.jllm.cuda.kernels;

import dev.jllm.cuda.ffm.CudaDevice;
import dev.jllm.cuda.ffm.DeviceBuffer;
import dev.jllm.cuda.ffm.FakeCudaDriver;
import dev.jllm.cuda.ffm.LaunchConfig;
import dev.jllm.gguf.GgmlType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The typed launchers against a fake driver: launch configurations, argument order, shape checks. */
class CudaKernelsTest {
    private FakeCudaDriver fake;
    private CudaDevice dev;
    private CudaKernels kernels;

    @BeforeEach
    void open() {
        fake = new FakeCudaDriver();
        for (Kernel k : Kernel.values()) fake.paramCountByName.put(k.symbol, k.params.size());
        dev = CudaDevice.open(fake, 0, false);
        kernels = new CudaKernels(dev, new byte[]{0x50, (byte) 0xED, 0x55, (byte) 0xBA});
    }

    @AfterEach
    void close() {
        dev.close();
    }

    private FakeCudaDriver.Launch last() {
        return fake.launches.getLast();
    }

    private String lastName() {
        return fake.functionNames.get(last().function());
    }

    @Test
    void resolvesEveryRegisteredKernelAndRaisesThePrefillSharedMemoryLimit() {
        for (Kernel k : Kernel.values()) assertTrue(fake.functionsByName.containsKey(k.symbol), k.symbol);
        assertEquals(7, fake.count("cuFuncSetAttribute"), "prefill attention, one-token, multi-matrix and batched Q8_0 and Q4_0 products");
    }

    /** A 12288-wide Q8_0/Q4_0 row stages 48 KiB of x: with the kernels' static shared memory, more than the default limit. */
    @Test
    void fullyStagedRowsLaunchWithinTheOptedInSharedMemory() {
        int rows = 16, cols = CudaKernels.MATVEC_STAGE_MAX_BYTES / 4;
        DeviceBuffer x = dev.memory().allocate("x", 4L * cols), y = dev.memory().allocate("y", 4L * rows), y2 = dev.memory().allocate("y2", 4L * rows);
        for (GgmlType type : new GgmlType[]{GgmlType.Q8_0, GgmlType.Q4_0}) {
            DeviceBuffer w = dev.memory().allocate("ffn_down " + type, DeviceLayout.bytes(type, rows, cols));
            kernels.matvec(type, w, rows, cols, x, y, 0);
            assertEquals(4 * cols, last().sharedMem(), type + ": x staged");
            kernels.matvecMulti(type, new DeviceBuffer[]{w, w}, new int[]{rows, rows}, cols, x, new DeviceBuffer[]{y, y2}, 0);
            assertEquals(4 * cols, last().sharedMem(), type + " multi: x staged");
        }
    }

    @Test
    void matvecIsOneWarpPerRowEightRowsPerBlock() {
        int rows = 1001, cols = 96;
        DeviceBuffer w = dev.memory().allocate("blk.0.attn_q.weight", DeviceLayout.bytes(GgmlType.Q8_0, rows, cols));
        DeviceBuffer x = dev.memory().allocate("x", 4L * cols);
        DeviceBuffer y = dev.memory().allocate("y", 4L * rows);
        kernels.matvec(GgmlType.Q8_0, w, rows, cols, x, y, 0);
        assertEquals("jllm_matvec_q8_0", lastName());
        assertEquals(126, last().gridX());
        assertEquals(256, last().blockX());
        assertEquals(w.address(), last().paramLong(0));
        assertEquals(x.address(), last().paramLong(1));
        assertEquals(0, last().paramLong(2), "no aux input");
        assertEquals(y.address(), last().paramLong(4));
        assertEquals(rows, last().paramInt(5));
        assertEquals(cols, last().paramInt(6));
        assertEquals(0, last().paramInt(7), "plain input, y = W x");
        assertEquals(4 * cols, last().sharedMem(), "x staged in shared memory");
        kernels.stageMatvecInput(false);
        kernels.matvec(GgmlType.Q8_0, w, rows, cols, x, y, 0);
        assertEquals(0, last().sharedMem(), "x read from global memory");
    }

    /** Batched Q8_0/Q4_0 products stage as many tokens as fit in 96 KiB (at most 8) per block. */
    @Test
    void batchedProductsStageTheirTokensInputs() {
        int rows = 100, cols = 4096, n = 8;
        DeviceBuffer w = dev.memory().allocate("ffn_up", DeviceLayout.bytes(GgmlType.Q4_0, rows, cols));
        DeviceBuffer x = dev.memory().allocate("x", 4L * n * cols), y = dev.memory().allocate("y", 4L * n * rows);
        kernels.matvecBatch(GgmlType.Q4_0, w, rows, cols, x, y, n, 0);
        assertEquals("jllm_matvec_batch_q4_0", lastName());
        assertEquals(6, kernels.batchStagedTokens(GgmlType.Q4_0, cols, n), "6 x 16 KiB fit in 96 KiB");
        assertEquals(2, last().gridY(), "8 tokens in blocks of up to 6");
        assertEquals(6 * cols * 4, last().sharedMem());
        assertEquals(3, kernels.batchStagedTokens(GgmlType.Q8_0, 2048, 3), "never more than the tokens");
        assertEquals(0, kernels.batchStagedTokens(GgmlType.Q4_K, 2048, 8), "K-quants read x from global memory");
        assertEquals(0, kernels.batchStagedTokens(GgmlType.Q4_0, 32768, 8), "a row too wide for one token's input");
        DeviceBuffer wk = dev.memory().allocate("q4k", DeviceLayout.bytes(GgmlType.Q4_K, rows, cols));
        kernels.matvecBatch(GgmlType.Q4_K, wk, rows, cols, x, y, n, 0);
        assertEquals(2, last().gridY(), "4 tokens per block, one at a time");
        assertEquals(0, last().sharedMem());
    }

    /** wq/wk/wv as one launch over their rows end to end; w1/w3 with the SwiGLU gate as one launch. */
    @Test
    void multiMatrixProductsAreOneLaunch() {
        int dim = 64, kv = 16, ffn = 96;
        DeviceBuffer x = dev.memory().allocate("h", 4L * dim);
        DeviceBuffer wq = dev.memory().allocate("wq", DeviceLayout.bytes(GgmlType.Q4_0, dim, dim));
        DeviceBuffer wk = dev.memory().allocate("wk", DeviceLayout.bytes(GgmlType.Q4_0, kv, dim));
        DeviceBuffer wv = dev.memory().allocate("wv", DeviceLayout.bytes(GgmlType.Q4_0, kv, dim));
        DeviceBuffer q = dev.memory().allocate("q", 4L * dim), k = dev.memory().allocate("k", 4L * kv), v = dev.memory().allocate("v", 4L * kv);
        kernels.matvecMulti(GgmlType.Q4_0, new DeviceBuffer[]{wq, wk, wv}, new int[]{dim, kv, kv}, dim, x, new DeviceBuffer[]{q, k, v}, 0);
        assertEquals("jllm_matvec_multi_q4_0", lastName());
        assertEquals(12, last().gridX(), "96 rows end to end, 8 per block");
        assertEquals(4 * dim, last().sharedMem(), "x staged");
        assertEquals(wv.address(), last().paramLong(2));
        assertEquals(x.address(), last().paramLong(3));
        assertEquals(v.address(), last().paramLong(6));
        assertEquals(List.of(dim, kv, kv, dim, 0), List.of(last().paramInt(7), last().paramInt(8), last().paramInt(9),
                last().paramInt(10), last().paramInt(11)));
        var small = assertThrows(IllegalArgumentException.class, () -> kernels.matvecMulti(GgmlType.Q4_0,
                new DeviceBuffer[]{wq, wk, wv}, new int[]{dim, kv, kv}, dim, x, new DeviceBuffer[]{q, k, k.view("k1", 0, 4)}, 0));
        assertTrue(small.getMessage().contains("'k1' has 4 bytes"), small.getMessage());

        DeviceBuffer w1 = dev.memory().allocate("w1", DeviceLayout.bytes(GgmlType.BF16, ffn, dim));
        DeviceBuffer w3 = dev.memory().allocate("w3", DeviceLayout.bytes(GgmlType.BF16, ffn, dim));
        DeviceBuffer g = dev.memory().allocate("g", 4L * ffn);
        kernels.matvecSwiglu(GgmlType.BF16, w1, w3, ffn, dim, x, g, 0);
        assertEquals("jllm_matvec_multi_bf16", lastName());
        assertEquals(12, last().gridX(), "96 rows, each warp one row of both");
        assertEquals(0, last().sharedMem(), "BF16 reads x from global memory");
        assertEquals(0, last().paramLong(2), "no third matrix");
        assertEquals(1, last().paramInt(11), "SwiGLU pair mode");
    }

    /** One decode token: the norm, the gate and the residual add ride on the products that can take them. */
    @Test
    void oneTokenProjectionsFuseTheNormTheGateAndTheResidualAdd() {
        int dim = 64, ffn = 96;
        DeviceBuffer x = dev.memory().allocate("x", 4L * dim), norm = dev.memory().allocate("attn_norm", 4L * dim);
        DeviceBuffer h = dev.memory().allocate("h", 4L * dim), q = dev.memory().allocate("q", 4L * dim);
        DeviceBuffer g = dev.memory().allocate("g", 4L * ffn), u = dev.memory().allocate("u", 4L * ffn);
        DeviceBuffer tmp = dev.memory().allocate("tmp", 4L * dim);
        DeviceBuffer wq = dev.memory().allocate("wq", DeviceLayout.bytes(GgmlType.Q4_0, dim, dim));
        DeviceBuffer wk = dev.memory().allocate("wk", DeviceLayout.bytes(GgmlType.Q4_K, dim, 256));
        DeviceBuffer w2 = dev.memory().allocate("w2", DeviceLayout.bytes(GgmlType.Q8_0, dim, ffn));
        // off by default (slower on an H100): the norm runs once, into h, and the product reads h
        int before = fake.launches.size();
        kernels.project(GgmlType.Q4_0, wq, dim, dim, kernels.normed(x, norm, 1e-5f, h, 1, dim), q, 0);
        assertEquals(before + 2, fake.launches.size());
        assertEquals(h.address(), last().paramLong(1));
        assertEquals(0, last().paramInt(7));
        kernels.fuseInputs(true);
        CudaKernels.Input in = kernels.normed(x, norm, 1e-5f, h, 1, dim);
        before = fake.launches.size();
        kernels.project(GgmlType.Q4_0, wq, dim, dim, in, q, 0);
        assertEquals(before + 1, fake.launches.size(), "no rmsnorm launch of its own");
        assertEquals("jllm_matvec_q4_0", lastName());
        assertEquals(x.address(), last().paramLong(1), "reads the residual stream");
        assertEquals(norm.address(), last().paramLong(2));
        assertEquals(1e-5f, last().paramFloat(3));
        assertEquals(CudaKernels.IN_NORM, last().paramInt(7));
        assertEquals(4 * dim, last().sharedMem());

        // a type whose kernel does not stage its input: the norm runs once, into h, and later products read h
        DeviceBuffer x256 = dev.memory().allocate("x256", 4L * 256);
        assertThrows(IllegalArgumentException.class, () -> kernels.project(GgmlType.Q4_K, wk, dim, 256, in, q, 0), "input width checked");
        CudaKernels.Input in256 = kernels.normed(x256, dev.memory().allocate("n256", 4L * 256), 1e-5f,
                dev.memory().allocate("h256", 4L * 256), 1, 256);
        before = fake.launches.size();
        kernels.project(GgmlType.Q4_K, wk, dim, 256, in256, q, 0);
        assertEquals(before + 2, fake.launches.size());
        assertEquals("jllm_rmsnorm", fake.functionNames.get(fake.launches.get(before).function()));
        assertEquals(0, last().paramInt(7));
        kernels.project(GgmlType.Q4_K, wk, dim, 256, in256, q, 0);
        assertEquals(before + 3, fake.launches.size(), "materialized once");

        // x += w2 . (silu(g) * u): one launch, gated input, added output
        before = fake.launches.size();
        kernels.projectAdd(GgmlType.Q8_0, w2, dim, ffn, kernels.gated(g, u, g, 1, ffn), x, tmp, 0);
        assertEquals(before + 1, fake.launches.size());
        assertEquals("jllm_matvec_q8_0", lastName());
        assertEquals(g.address(), last().paramLong(1));
        assertEquals(u.address(), last().paramLong(2));
        assertEquals(x.address(), last().paramLong(4));
        assertEquals(CudaKernels.IN_GATED | CudaKernels.OUT_ADD, last().paramInt(7));

        // one token whose input is the residual stream itself (directly, or fused into the norm): a clear error,
        // not blocks reading x while others add to it; materialized into h first, the same norm is fine
        DeviceBuffer wo = dev.memory().allocate("wo", DeviceLayout.bytes(GgmlType.Q8_0, dim, dim));
        var plainAlias = assertThrows(IllegalArgumentException.class,
                () -> kernels.projectAdd(GgmlType.Q8_0, wo, dim, dim, kernels.plain(x.view("x row", 0, 4L * dim), 1, dim), x, tmp, 0));
        assertTrue(plainAlias.getMessage().contains("'x row' overlaps 'x'"), plainAlias.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> kernels.projectAdd(GgmlType.Q8_0, wo, dim, dim, kernels.normed(x, norm, 1e-5f, h, 1, dim), x, tmp, 0));
        kernels.fuseInputs(false);
        before = fake.launches.size();
        kernels.projectAdd(GgmlType.Q8_0, wo, dim, dim, kernels.normed(x, norm, 1e-5f, h, 1, dim), x, tmp, 0);
        assertEquals(before + 2, fake.launches.size(), "rmsnorm into h, then the product adds to x");
        assertEquals(h.address(), last().paramLong(1));

        // two tokens: rmsnorm, batched product, residual add, as before
        DeviceBuffer x2 = dev.memory().allocate("x2", 8L * dim), h2 = dev.memory().allocate("h2", 8L * dim);
        DeviceBuffer t2 = dev.memory().allocate("t2", 8L * dim);
        before = fake.launches.size();
        kernels.projectAdd(GgmlType.Q4_0, wq, dim, dim, kernels.normed(x2, norm, 1e-5f, h2, 2, dim), x2, t2, 0);
        List<String> names = fake.launches.subList(before, fake.launches.size()).stream()
                .map(l -> fake.functionNames.get(l.function())).toList();
        assertEquals(List.of("jllm_rmsnorm", "jllm_matvec_batch_q4_0", "jllm_residual_add"), names);
    }

    @Test
    void shapeAndSizeErrorsNameTheTensorOrBuffer() {
        DeviceBuffer w = dev.memory().allocate("blk.3.ffn_down.weight", 34 * 10);
        DeviceBuffer x = dev.memory().allocate("x", 4 * 64);
        DeviceBuffer y = dev.memory().allocate("y", 4 * 10);
        var notBlock = assertThrows(IllegalArgumentException.class, () -> kernels.matvec(GgmlType.Q8_0, w, 10, 48, x, y, 0));
        assertTrue(notBlock.getMessage().startsWith("blk.3.ffn_down.weight: 48 columns"), notBlock.getMessage());
        var small = assertThrows(IllegalArgumentException.class, () -> kernels.matvec(GgmlType.Q8_0, w, 10, 64, x, y, 0));
        assertTrue(small.getMessage().contains("'blk.3.ffn_down.weight' has 340 bytes, needs 680"), small.getMessage());
        var type = assertThrows(IllegalArgumentException.class, () -> kernels.matvec(GgmlType.Q5_K, w, 1, 256, x, y, 0));
        assertTrue(type.getMessage().contains("Q5_K has no CUDA kernel"), type.getMessage());
        assertEquals(0, fake.launches.size());
    }

    @Test
    void decodeAttentionLaunchesSplitsThenCombine() {
        int seqs = 3, heads = 8, kv = 2, hd = 64, window = 1000, span = 600;
        DeviceBuffer q = dev.memory().allocate("q", 4L * seqs * heads * hd);
        DeviceBuffer kc = dev.memory().allocate("k_cache", 4L * seqs * kv * window * hd);
        DeviceBuffer vc = dev.memory().allocate("v_cache", 4L * seqs * kv * window * hd);
        DeviceBuffer pos = dev.memory().allocate("pos", 4L * seqs);
        int splits = CudaKernels.decodeSplits(span);
        assertEquals(19, splits, "600 keys in chunks of 32");
        assertEquals(32, CudaKernels.decodeChunk(span));
        assertEquals(1568, CudaKernels.decodeChunk(100_000), "long spans: at most 64 splits, chunks a multiple of 32");
        assertEquals(64, CudaKernels.decodeSplits(100_000));
        assertEquals(1, CudaKernels.decodeSplits(1));
        DeviceBuffer po = dev.memory().allocate("part_o", 4L * seqs * heads * splits * hd);
        DeviceBuffer pml = dev.memory().allocate("part_ml", 8L * seqs * heads * splits);
        DeviceBuffer counters = kernels.decodeCounters(seqs, heads, 0);
        assertEquals(1, fake.count("cuMemsetD32Async"), "counters start at zero");
        DeviceBuffer out = dev.memory().allocate("out", 4L * seqs * heads * hd);
        int before = fake.launches.size();
        kernels.attentionDecode(q, kc, vc, pos, po, pml, counters, out, seqs, heads, kv, hd, window, span, 0.125f, 0);
        assertEquals(before + 1, fake.launches.size(), "splits and their combination in one launch");
        assertEquals("jllm_attention_decode", lastName());
        assertEquals(splits, last().gridX());
        assertEquals(heads, last().gridY());
        assertEquals(seqs, last().gridZ());
        assertEquals((hd + CudaKernels.decodeChunk(span)) * 4, last().sharedMem());
        assertEquals(counters.address(), last().paramLong(6));
        assertEquals(out.address(), last().paramLong(7));
        assertEquals(0.125f, last().paramFloat(15));
        assertThrows(IllegalArgumentException.class, () ->
                kernels.attentionDecode(q, kc, vc, pos, po, pml, counters, out, seqs, heads, 3, hd, window, span, 1f, 0));
        DeviceBuffer few = counters.view("few counters", 0, 4L * heads);
        var e = assertThrows(IllegalArgumentException.class, () ->
                kernels.attentionDecode(q, kc, vc, pos, po, pml, few, out, seqs, heads, kv, hd, window, span, 1f, 0));
        assertTrue(e.getMessage().contains("'few counters'"), e.getMessage());
        // a span whose chunk of scores is past the default shared memory: a clear error until it is reserved
        int longSpan = 1 << 20;
        DeviceBuffer big = dev.memory().allocate("part (64 splits)", 8L * seqs * heads * 64 * hd);
        var tooLong = assertThrows(IllegalArgumentException.class, () -> kernels.attentionDecode(q, kc, vc, pos, big, big, counters,
                out, 1, heads, kv, hd, longSpan, longSpan, 1f, window, 0));
        assertTrue(tooLong.getMessage().contains("reserveDecodeSpan"), tooLong.getMessage());
        long attrs = fake.count("cuFuncSetAttribute");
        kernels.reserveDecodeSpan(hd, 1000);
        assertEquals(attrs, fake.count("cuFuncSetAttribute"), "short spans need no opt-in");
        kernels.reserveDecodeSpan(hd, longSpan);
        kernels.attentionDecode(q, kc, vc, pos, big, big, counters, out, 1, heads, kv, hd, longSpan, longSpan, 1f, window, 0);
        assertEquals((hd + 16384) * 4, last().sharedMem());
    }

    /** Partial results sized for the longest span must hold every shorter span's splits (they are not monotonic). */
    @Test
    void decodeMaxSplitsBoundsTheSplitsOfEveryShorterSpan() {
        assertEquals(64, CudaKernels.decodeSplits(2048), "2048 keys: 64 chunks of 32");
        assertEquals(47, CudaKernels.decodeSplits(3000), "3000 keys: 47 chunks of 64, fewer than 2048 keys take");
        int most = 0;
        for (int span = 1; span <= 70_000; span++) {
            most = Math.max(most, CudaKernels.decodeSplits(span));
            assertEquals(most, CudaKernels.decodeMaxSplits(span), "spans up to " + span);
            assertTrue(CudaKernels.decodeChunk(span) * CudaKernels.decodeSplits(span) >= span, "span " + span + " covered");
        }
    }

    @Test
    void ropeAndPrefillConfigurations() {
        assertEquals(LaunchConfig.of(5, 12, 64), CudaKernels.ropeConfig(5, 8, 4, 128));
        assertEquals(LaunchConfig.of(5, 12, 32), CudaKernels.ropeConfig(5, 8, 4, 8));
        LaunchConfig p = CudaKernels.prefillConfig(33, 8, 256);
        assertEquals(3, p.gridX());
        assertEquals(8, p.gridY());
        assertEquals((48 * 256 + 16) * 4, p.sharedMemBytes());
    }

    @Test
    void moeMatvecReadsExpertIdsOnTheDeviceWithTheExpertStride() {
        int experts = 8, rows = 64, cols = 256, slots = 2;
        long perExpert = DeviceLayout.bytes(GgmlType.Q4_K, rows, cols);
        DeviceBuffer w = dev.memory().allocate("blk.0.ffn_up_exps.weight", perExpert * experts);
        DeviceBuffer ids = dev.memory().allocate("ids", 4L * slots);
        DeviceBuffer x = dev.memory().allocate("x", 4L * cols * slots);
        DeviceBuffer y = dev.memory().allocate("y", 4L * rows * slots);
        kernels.moeMatvec(GgmlType.Q4_K, w, experts, rows, cols, ids, x, false, y, slots, 0);
        assertEquals("jllm_moe_matvec_q4_k", lastName());
        assertEquals(8, last().gridX());
        assertEquals(slots, last().gridY());
        assertEquals(perExpert, last().paramLong(1));
        assertEquals(ids.address(), last().paramLong(2));
        assertEquals(0, last().paramInt(4), "shared input: stride 0");
        kernels.moeMatvec(GgmlType.Q4_K, w, experts, rows, cols, ids, x, true, y, slots, 0);
        assertEquals(cols, last().paramInt(4));
        // a Q4_0 expert of 37 x 224 is 37 * 7 * 18 = 4662 bytes: each starts 4864 bytes (19 * 256) after the last,
        // so its 16-byte loads stay aligned (4662 apart, the H100 stopped with CUDA_ERROR_MISALIGNED_ADDRESS)
        DeviceBuffer w4 = dev.memory().allocate("blk.0.ffn_down_exps.weight", 4864L * (experts - 1) + 4662);
        kernels.moeMatvec(GgmlType.Q4_0, w4, experts, 37, 224, ids, x, false, y, slots, 0);
        assertEquals(4864L, last().paramLong(1));
        DeviceBuffer tooShort = dev.memory().allocate("short", 4662L * experts);
        assertThrows(IllegalArgumentException.class,
                () -> kernels.moeMatvec(GgmlType.Q4_0, tooShort, experts, 37, 224, ids, x, false, y, slots, 0));
    }

    @Test
    void samplingTakesTheRngStateFromDeviceMemory() {
        DeviceBuffer logits = dev.memory().allocate("logits", 4 * 100);
        DeviceBuffer rng = dev.memory().allocate("rng", 16);
        DeviceBuffer out = dev.memory().allocate("token", 4);
        kernels.sample(logits, 100, 0.8f, 40, 0.95f, rng, out, 0);
        assertEquals("jllm_sample", lastName());
        assertEquals(1024, last().blockX());
        assertEquals(0.8f, last().paramFloat(2));
        assertEquals(40, last().paramInt(3));
        assertEquals(0.95f, last().paramFloat(4));
        assertEquals(rng.address(), last().paramLong(5));
    }
}
