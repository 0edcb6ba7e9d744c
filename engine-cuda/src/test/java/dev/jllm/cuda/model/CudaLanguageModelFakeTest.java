package dev.jllm.cuda.model;

import dev.jllm.cuda.ffm.CudaDevice;
import dev.jllm.cuda.ffm.FakeCudaDriver;
import dev.jllm.cuda.kernels.Kernel;
import dev.jllm.engine.LoadOptions;
import dev.jllm.engine.kv.KvCache;
import dev.jllm.engine.model.GgufModelLoader;
import dev.jllm.engine.model.ModelConfig;
import dev.jllm.gguf.GgufFile;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The CUDA model's host side against the fake driver, on the real model files: weights of every family
 * upload in device layout, every launch of prefill and decode passes the launchers' shape checks, and a
 * rolling layer that has wrapped is stepped one token at a time. (The arithmetic needs a GPU: see
 * EndToEndGpuTest.)
 */
class CudaLanguageModelFakeTest {
    private static FakeCudaDriver fake() {
        FakeCudaDriver f = new FakeCudaDriver();
        for (Kernel k : Kernel.values()) f.paramCountByName.put(k.symbol, k.params.size());
        return f;
    }

    private static CudaLanguageModel load(FakeCudaDriver fake, Path gguf) throws IOException {
        return load(fake, gguf, LoadOptions.DEFAULT);
    }

    private static CudaLanguageModel load(FakeCudaDriver fake, Path gguf, LoadOptions options) throws IOException {
        assumeTrue(Files.exists(gguf), "shared model missing: " + gguf);
        assumeTrue(CudaLanguageModel.class.getResource(Kernel.FATBIN_RESOURCE) != null, "fatbin not built (no nvcc)");
        try (GgufFile f = GgufFile.open(gguf)) {
            ModelConfig c = GgufModelLoader.config(f, options);
            return new CudaLanguageModel(CudaDevice.open(fake, 0, false), f, c, GgufModelLoader.defaultPrefillChunk(c, options));
        }
    }

    private static Map<String, Integer> counts(FakeCudaDriver fake, int from) {
        Map<String, Integer> m = new TreeMap<>();
        for (FakeCudaDriver.Launch l : fake.launches.subList(from, fake.launches.size())) {
            m.merge(fake.functionNames.get(l.function()), 1, Integer::sum);
        }
        return m;
    }

    @Test
    void everyFamilyRunsPrefillAndDecodeThroughTheLaunchers() throws IOException {
        for (Goldens.Case g : new Goldens.Case[]{Goldens.stories260K(), Goldens.ts656k(), Goldens.random("llama2-mha"),
                Goldens.random("llama3-ropescale"), Goldens.random("mixtral-moe"), Goldens.random("mistral-swa")}) {
            FakeCudaDriver fake = fake();
            try (CudaLanguageModel m = load(fake, g.gguf())) {
                KvCache cache = m.newCache();
                float[] logits = m.forward(cache, g.prompt());
                assertEquals(m.config().vocabSize(), logits.length, g.name());
                for (int i = 0; i < 3; i++) m.forward(cache, g.generated()[i]);
                assertEquals(g.prompt().length + 3, cache.length(), g.name());
                assertEquals("cuda", m.backend());
                assertTrue(m.weightBytes() > 0);
            }
            assertTrue(fake.liveDevice.isEmpty(), g.name() + ": everything freed at close");
        }
    }

    /**
     * Decode attention splits are not monotonic in the span: a model of context 3000 takes 47 splits of 64
     * keys, a cache of 2048 positions 64 splits of 32. The partial results must have room for both.
     */
    @Test
    void aCacheShorterThanTheModelsContextFitsTheAttentionPartialResults() throws IOException {
        FakeCudaDriver fake = fake();
        try (CudaLanguageModel m = load(fake, Goldens.stories260K().gguf(), LoadOptions.DEFAULT.withContextLength(3000))) {
            KvCache cache = m.newCache(new dev.jllm.engine.kv.KvCacheOptions(dev.jllm.engine.kv.KvType.F32, 2048));
            m.forward(cache, 1, 403);
            float[] logits = m.forward(cache, 407);  // a decode step: the captured graph attends over the whole span
            assertEquals(m.config().vocabSize(), logits.length);
            assertEquals(3, cache.length());
        }
    }

    /** A 1M-token context: decode attention's chunk of 16384 scores takes 64 KiB of shared memory, opted into at load. */
    @Test
    void aMillionTokenContextDecodesWithinTheOptedInSharedMemory() throws IOException {
        FakeCudaDriver fake = fake();
        try (CudaLanguageModel m = load(fake, Goldens.stories260K().gguf(), LoadOptions.DEFAULT.withContextLength(1 << 20))) {
            KvCache cache = m.newCache();
            m.forward(cache, 1, 403);
            assertEquals(m.config().vocabSize(), m.forward(cache, 407).length, "a decode step over the whole span");
        }
    }

    @Test
    void aWrappedSlidingWindowIsSteppedOneTokenAtATime() throws IOException {
        FakeCudaDriver fake = fake();
        Goldens.Case g = Goldens.random("mistral-swa");  // window 8, 3 layers, prompt of 26 tokens
        try (CudaLanguageModel m = load(fake, g.gguf())) {
            int layers = m.config().nLayers();
            int before = fake.launches.size();
            m.forward(m.newCache(), g.prompt());
            Map<String, Integer> c = counts(fake, before);
            // positions 0..7 in one pass (prefill kernel), then 18 single-token passes: one decode step captured
            // as a graph (the rolling storage never moves) and replayed 18 times
            assertEquals(layers, c.get("jllm_attention_prefill"));
            assertEquals(layers, c.get("jllm_attention_decode"));
            assertEquals(1, fake.count("cuStreamBeginCapture"));
            assertEquals(18, fake.count("cuGraphLaunch"));
            // the captured step: wq/wk/wv and w1/w3 (with the gate) as one launch each, then wo and w2; logits once
            assertEquals(2 * layers + 1, c.get("jllm_matvec_f32"), "the captured step's wo and w2, then logits once for the last token");
            assertEquals(2 * layers, c.get("jllm_matvec_multi_f32"));
        }
    }

    @Test
    void decodeStepsReplayOneCapturedGraphUntilTheCacheGrows() throws IOException {
        FakeCudaDriver fake = fake();
        try (CudaLanguageModel m = load(fake, Goldens.stories260K().gguf())) {
            KvCache cache = m.newCache();
            m.forward(cache, 1, 403, 407, 261, 378);  // prefill: no graph; storage for 16 positions
            assertEquals(0, fake.count("cuStreamBeginCapture"));
            for (int i = 0; i < 11; i++) m.forward(cache, 432);  // positions 5..15
            assertEquals(1, fake.count("cuStreamBeginCapture"), "captured once");
            assertEquals(11, fake.count("cuGraphLaunch"));
            m.forward(cache, 432);  // position 16: storage grows, addresses move, the graph is captured again
            assertEquals(2, fake.count("cuStreamBeginCapture"));
            assertEquals(1, fake.count("cuGraphExecDestroy"));
            KvCache other = m.newCache();
            m.forward(other, 1);
            assertEquals(3, fake.count("cuStreamBeginCapture"), "one graph per cache");
        }
    }

    @Test
    void twoPipelineStagesSplitTheLayersAcrossStreamsWithEventHandOvers() throws IOException {
        FakeCudaDriver fake = fake();
        System.setProperty("jllm.cuda.stages", "2");
        try (CudaLanguageModel m = load(fake, Goldens.stories260K().gguf())) {  // 5 layers: 0-2 on stage 0, 3-4 on stage 1
            int before = fake.launches.size();
            long records = fake.count("cuEventRecord"), waits = fake.count("cuStreamWaitEvent");
            m.forward(m.newCache(), 1, 403, 407);
            assertEquals(records + 2, fake.count("cuEventRecord"), "stage 0 -> 1, then back for the output");
            assertEquals(waits + 2, fake.count("cuStreamWaitEvent"));
            java.util.Set<Long> streams = new java.util.HashSet<>();
            for (FakeCudaDriver.Launch l : fake.launches.subList(before, fake.launches.size())) streams.add(l.stream());
            assertEquals(2, streams.size());
        } finally {
            System.clearProperty("jllm.cuda.stages");
        }
    }

    @Test
    void mixtralRoutesOnTheDevice() throws IOException {
        FakeCudaDriver fake = fake();
        Goldens.Case g = Goldens.random("mixtral-moe");
        try (CudaLanguageModel m = load(fake, g.gguf())) {
            int before = fake.launches.size();
            m.forward(m.newCache(), 1, 2, 3);
            Map<String, Integer> c = counts(fake, before);
            int layers = m.config().nLayers();
            assertEquals(layers, c.get("jllm_moe_route"));
            assertEquals(3 * 3 * layers, c.get("jllm_moe_matvec_f32"), "gate, up, down per token");
            assertEquals(3 * layers, c.get("jllm_moe_combine"));
        }
    }

    @Test
    void cachesOfOtherBackendsAndF16CachesAreRefused() throws IOException {
        FakeCudaDriver fake = fake();
        try (CudaLanguageModel m = load(fake, Goldens.stories260K().gguf())) {
            KvCache cpu = KvCache.create(dev.jllm.engine.kv.KvType.F32, m.config().nLayers(), m.config().kvDim(), m.config().headDim(), 16, new int[]{16, 16, 16, 16, 16});
            var e = assertThrows(IllegalArgumentException.class, () -> m.forward(cpu, 1));
            assertTrue(e.getMessage().contains("another backend"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> m.newCache(dev.jllm.engine.kv.KvCacheOptions.of(dev.jllm.engine.kv.KvType.F16)));
        }
    }

    @Test
    void aCudaCacheForksOnTheDevice() throws IOException {
        FakeCudaDriver fake = fake();
        try (CudaLanguageModel m = load(fake, Goldens.stories260K().gguf())) {
            KvCache cache = m.newCache();
            m.forward(cache, 1, 403, 407);
            long copies = fake.count("cuMemcpyDtoDAsync");
            KvCache fork = cache.copy();
            assertTrue(fork instanceof CudaKvCache);
            assertEquals(3, fork.length());
            assertEquals(copies + 2L * m.config().nLayers(), fake.count("cuMemcpyDtoDAsync"), "keys and values of every layer");
            m.forward(fork, 261);
            assertEquals(3, cache.length(), "the original is untouched");
        }
        assertTrue(fake.liveDevice.isEmpty(), "forks are freed with the model");
    }

    @Test
    void aCudaCacheSerializesInTheCpuFormat() throws IOException {
        FakeCudaDriver fake = fake();
        try (CudaLanguageModel m = load(fake, Goldens.stories260K().gguf())) {
            KvCache cache = m.newCache();
            m.forward(cache, 1, 403, 407);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            cache.writeTo(bytes);
            KvCache cpu = KvCache.readFrom(new ByteArrayInputStream(bytes.toByteArray()));
            assertEquals(3, cpu.length());
            assertEquals(m.config().nLayers(), cpu.layers());
            KvCache back = m.readCache(new ByteArrayInputStream(bytes.toByteArray()));
            assertEquals(3, back.length());
            assertTrue(back instanceof CudaKvCache);
        }
    }
}
