package dev.jllm.cuda.bench;

import dev.jllm.cuda.ffm.CudaDevice;
import dev.jllm.cuda.ffm.FakeCudaDriver;
import dev.jllm.cuda.kernels.CudaKernels;
import dev.jllm.cuda.kernels.Kernel;
import dev.jllm.gguf.GgmlType;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The benchmark's forward-pass launch sequence against the fake driver: every launch passes the
 * launchers' shape and size checks, and the kernels run the expected number of times.
 */
class RandomLlamaPlanTest {
    private static final LlamaShape TINY = new LlamaShape("tiny", 256, 3, 4, 2, 64, 512, 1000);

    private static Map<String, Integer> launchCounts(FakeCudaDriver fake, int from) {
        Map<String, Integer> counts = new TreeMap<>();
        for (FakeCudaDriver.Launch l : fake.launches.subList(from, fake.launches.size())) {
            counts.merge(fake.functionNames.get(l.function()), 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void decodeAndPrefillLaunchEveryStageOfEveryLayer() {
        FakeCudaDriver fake = new FakeCudaDriver();
        for (Kernel k : Kernel.values()) fake.paramCountByName.put(k.symbol, k.params.size());
        try (CudaDevice dev = CudaDevice.open(fake, 0, false)) {
            CudaKernels k = new CudaKernels(dev, new byte[]{1});
            long stream = dev.createStream();
            try (RandomLlama m = new RandomLlama(k, TINY, GgmlType.Q4_K, 16, 4, 32, 1, stream)) {
                int before = fake.launches.size();
                m.setBatch(new int[]{5}, new int[]{0}, stream);
                m.enqueueDecode(1, stream);
                Map<String, Integer> decode = launchCounts(fake, before);
                int L = TINY.layers();
                assertEquals(2 * L + 1, decode.get("jllm_matvec_q4_k"), "wo and w2 per layer, then the output");
                assertEquals(2 * L, decode.get("jllm_matvec_multi_q4_k"), "wq/wk/wv and w1/w3 (with the gate) per layer");
                assertNull(decode.get("jllm_swiglu"), "the gate rides on the w1/w3 launch");
                assertNull(decode.get("jllm_residual_add"), "wo and w2 add to the residual stream themselves");
                assertEquals(2 * L + 1, decode.get("jllm_rmsnorm"));
                assertEquals(L, decode.get("jllm_rope_kv"));
                assertEquals(L, decode.get("jllm_attention_decode"), "splits and their combination in one launch");
                assertEquals(1, decode.get("jllm_argmax"));

                before = fake.launches.size();
                m.enqueueDecode(4, stream);
                assertEquals(7 * L + 1, launchCounts(fake, before).get("jllm_matvec_batch_q4_k"), "batched decode: batched matvec");

                before = fake.launches.size();
                m.enqueuePrefill(16, stream);
                Map<String, Integer> prefill = launchCounts(fake, before);
                assertEquals(7 * L, prefill.get("jllm_matmul"));
                assertEquals(L, prefill.get("jllm_attention_prefill"));
                assertEquals(1, prefill.get("jllm_matvec_q4_k"), "logits of the last token only");
                assertThrows(IllegalArgumentException.class, () -> m.enqueueDecode(5, stream));
            }
            assertEquals(0, dev.memory().liveDeviceBuffers().size(), "the model frees what it allocated");
        }
    }

    @Test
    void weightBytesOfKnownShapes() {
        // Llama-2-7B without embeddings: 32 * (4 * 4096^2 + 3 * 4096 * 11008) + 32000 * 4096 weights
        long weights = 32L * (4L * 4096 * 4096 + 3L * 4096 * 11008) + 32000L * 4096;
        assertEquals(weights / 32 * 34, LlamaShape.LLAMA_2_7B.weightBytes(GgmlType.Q8_0));
        assertEquals(weights * 2, LlamaShape.LLAMA_2_7B.weightBytes(GgmlType.BF16));
    }
}
