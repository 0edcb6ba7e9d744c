package dev.jllm.engine.model.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jllm.engine.model.LayerSpec;
import dev.jllm.engine.model.LayerSpec.AttentionKind;
import dev.jllm.engine.model.LayerSpec.FfnKind;
import dev.jllm.engine.model.ModelConfig;
import dev.jllm.engine.model.RopeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class HfConfigTest {
    static final Path SHARED = Path.of(System.getProperty("jllm.shared.dir", "../shared"));

    static ModelConfig golden(String model, String file) throws IOException {
        Path p = SHARED.resolve("golden/random").resolve(model).resolve("hf").resolve(file);
        Assumptions.assumeTrue(Files.isRegularFile(p), "shared reference data not found at " + p);
        return HfConfig.parse(Files.readString(p), p.toString());
    }

    @Test
    void llama2Mha() throws IOException {
        ModelConfig c = golden("llama2-mha", "config.json");
        assertEquals("llama", c.architecture());
        assertEquals(64, c.dim());
        assertEquals(2, c.nLayers());
        assertEquals(4, c.nHeads());
        assertEquals(4, c.nKvHeads());
        assertEquals(16, c.headDim());
        assertEquals(172, c.ffnDim());
        assertEquals(2048, c.vocabSize());
        assertEquals(512, c.contextLength());
        assertEquals(1e-5f, c.normEps());
        assertEquals(new RopeConfig(10000, 16, RopeConfig.Style.HALF_SPLIT, RopeConfig.Scaling.NONE).theta(), c.rope().theta());
        assertEquals(RopeConfig.Style.HALF_SPLIT, c.rope().style());
        assertEquals("none", c.rope().scaling().type());
        assertFalse(c.tiedEmbeddings());
        assertEquals(0, c.nExperts());
        assertEquals(1, c.bosId());
        assertEquals(2, c.eosId());
        assertEquals(List.of(LayerSpec.dense(), LayerSpec.dense()), c.layers());
    }

    @Test
    void llama3RopeScalingInBothSpellings() throws IOException {
        for (String file : new String[] {"config.json", "config.transformers5.json"}) {
            ModelConfig c = golden("llama3-ropescale", file);
            assertEquals(500000.0, c.rope().theta(), file);
            RopeConfig.Scaling s = c.rope().scaling();
            assertEquals("llama3", s.type(), file);
            assertEquals(8.0, s.factor());
            assertEquals(1.0, s.lowFreqFactor());
            assertEquals(4.0, s.highFreqFactor());
            assertEquals(16, s.originalContext());
            assertEquals(2, c.nKvHeads());
            assertEquals(160, c.ffnDim());
        }
    }

    @Test
    void mistralSlidingWindow() throws IOException {
        ModelConfig c = golden("mistral-swa", "config.json");
        assertEquals("mistral", c.architecture());
        assertEquals(8, c.slidingWindow());
        assertEquals(8, c.headDim());
        assertEquals(8, c.nHeads());
        assertEquals(2, c.nKvHeads());
        for (LayerSpec l : c.layers()) assertEquals(new LayerSpec(AttentionKind.SLIDING, 8, true, FfnKind.DENSE), l);
        assertEquals(golden("mistral-swa", "config.transformers5.json"), c);
    }

    @Test
    void mixtralExperts() throws IOException {
        ModelConfig c = golden("mixtral-moe", "config.json");
        assertEquals("mixtral", c.architecture());
        assertEquals(8, c.nExperts());
        assertEquals(2, c.nExpertsUsed());
        assertEquals(96, c.expertFfnDim());
        assertEquals(0, c.slidingWindow()); // "sliding_window": null
        assertEquals(1e6, c.rope().theta());
        for (LayerSpec l : c.layers()) assertEquals(new LayerSpec(AttentionKind.GLOBAL, 0, true, FfnKind.MOE), l);
    }

    @Test
    void llama4TextLayersAndFields() throws IOException {
        ModelConfig c = golden("llama4-text", "config.json");
        assertEquals("llama4", c.architecture());
        assertEquals(RopeConfig.Style.ADJACENT, c.rope().style());
        assertEquals(500000.0, c.rope().theta());
        assertEquals(128, c.ffnDim());       // intermediate_size_mlp: dense layers
        assertEquals(64, c.expertFfnDim());  // intermediate_size: experts and shared expert
        assertEquals(4, c.nExperts());
        assertEquals(1, c.nExpertsUsed());
        assertEquals(16, c.attentionChunk());
        assertTrue(c.qkNorm());
        assertEquals(0.1f, c.attnTemperature());
        assertEquals(8f, c.attnFloorScale());
        assertEquals(List.of(
                new LayerSpec(AttentionKind.CHUNKED, 16, true, FfnKind.DENSE),
                new LayerSpec(AttentionKind.CHUNKED, 16, true, FfnKind.MOE_SHARED),
                new LayerSpec(AttentionKind.CHUNKED, 16, true, FfnKind.DENSE),
                new LayerSpec(AttentionKind.GLOBAL, 0, false, FfnKind.MOE_SHARED)), c.layers());
        assertEquals(c, golden("llama4-text", "config.transformers5.json"));
    }

    @Test
    void llama4DefaultsAndTextConfigNesting() {
        // no layer lists at all: transformers' defaults (NoPE every 4th layer, MoE every step-th, chunked on RoPE layers)
        String json = """
                {"architectures": ["Llama4ForConditionalGeneration"], "model_type": "llama4",
                 "text_config": {"model_type": "llama4_text", "hidden_size": 32, "num_hidden_layers": 8,
                   "num_attention_heads": 4, "num_key_value_heads": 1, "intermediate_size": 16,
                   "intermediate_size_mlp": 48, "vocab_size": 100, "num_local_experts": 2,
                   "interleave_moe_layer_step": 2, "attention_chunk_size": 8192, "attn_temperature_tuning": 4,
                   "rope_scaling": {"rope_type": "llama3", "factor": 16.0, "low_freq_factor": 1.0,
                                    "high_freq_factor": 1.0, "original_max_position_embeddings": 8192}},
                 "vision_config": {"hidden_size": 7}}""";
        ModelConfig c = HfConfig.parse(json, "test");
        assertEquals(32, c.dim());
        assertEquals(8, c.headDim());
        boolean[] rope = new boolean[8];
        FfnKind[] ffn = new FfnKind[8];
        for (int i = 0; i < 8; i++) {
            rope[i] = c.layer(i).rope();
            ffn[i] = c.layer(i).ffn();
        }
        assertArrayEquals(new boolean[] {true, true, true, false, true, true, true, false}, rope);
        assertEquals(FfnKind.DENSE, ffn[0]);
        assertEquals(FfnKind.MOE_SHARED, ffn[1]);
        assertEquals(FfnKind.MOE_SHARED, ffn[7]);
        assertEquals(new LayerSpec(AttentionKind.CHUNKED, 8192, true, FfnKind.DENSE), c.layer(0));
        assertEquals(new LayerSpec(AttentionKind.GLOBAL, 0, false, FfnKind.MOE_SHARED), c.layer(3));
        assertEquals(1, c.nExpertsUsed());
        assertEquals("llama3", c.rope().scaling().type());
        assertEquals(8192f, c.attnFloorScale()); // transformers' default floor_scale
        assertEquals(0.1f, c.attnTemperature());  // "attn_temperature_tuning": 4 (older configs) means on
    }

    @Test
    void tinyStoriesTiedEmbeddings() throws IOException {
        Path p = SHARED.resolve("models/tinystories656K/hf/config.json");
        Assumptions.assumeTrue(Files.isRegularFile(p), "shared model not found at " + p);
        ModelConfig c = HfConfig.read(p.getParent());
        assertTrue(c.tiedEmbeddings());
        assertEquals(128, c.dim());
        assertEquals(16, c.headDim());
        assertEquals(4, c.nKvHeads());
        assertEquals(384, c.ffnDim());
        assertEquals(1e-6f, c.normEps());
        assertEquals("none", c.rope().scaling().type()); // "rope_scaling": null
    }

    @Test
    void linearRopeScalingBecomesAUniformDivisor() {
        ModelConfig c = HfConfig.parse("""
                {"model_type": "llama", "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
                 "intermediate_size": 32, "vocab_size": 10, "rope_scaling": {"type": "linear", "factor": 4.0}}""", "t");
        double[] scaled = c.rope().inverseFrequencies();
        double[] plain = new RopeConfig(10000, 8, RopeConfig.Style.HALF_SPLIT, RopeConfig.Scaling.NONE).inverseFrequencies();
        for (int i = 0; i < plain.length; i++) assertEquals(plain[i] / 4, scaled[i], 1e-12 * plain[i]);
    }

    @Test
    void errorsNameTheFieldAndTheFile() {
        var e1 = assertThrows(IllegalArgumentException.class, () -> HfConfig.parse("{\"model_type\": \"gpt2\"}", "cfg.json"));
        assertEquals("cfg.json: model_type 'gpt2' is not supported (llama, mistral, mixtral, llama4_text)", e1.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> HfConfig.parse(
                "{\"model_type\": \"llama\", \"num_hidden_layers\": 2}", "cfg.json"));
        assertEquals("cfg.json: missing 'hidden_size'", e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> HfConfig.parse("""
                {"model_type": "llama", "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
                 "intermediate_size": 32, "vocab_size": 10, "rope_scaling": {"rope_type": "yarn", "factor": 4.0}}""", "c"));
        assertTrue(e3.getMessage().contains("rope scaling type 'yarn'"), e3.getMessage());
        var e4 = assertThrows(IllegalArgumentException.class, () -> HfConfig.parse("""
                {"model_type": "llama", "hidden_size": 16.5, "num_hidden_layers": 1}""", "c"));
        assertTrue(e4.getMessage().contains("'hidden_size' must be an integer"), e4.getMessage());
        var e5 = assertThrows(IllegalArgumentException.class, () -> HfConfig.parse("""
                {"model_type": "llama", "attention_bias": true}""", "c"));
        assertEquals("c: 'attention_bias' is true; the engine's blocks have no biases", e5.getMessage());
    }
}
