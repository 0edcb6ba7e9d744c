package dev.jllm.engine.bench;

import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.Models;
import dev.jllm.engine.tensor.WeightMatrices;
import dev.jllm.engine.tensor.WeightMatrix;
import dev.jllm.gguf.GgmlType;
import dev.jllm.gguf.GgufFile;
import dev.jllm.gguf.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyntheticGgufTest {
    /** The sample standard deviation of a random matrix may differ from the target by this fraction (plus quantization). */
    static final double STD_TOLERANCE = 0.15;

    @TempDir
    Path dir;

    @Test
    void llamaLayoutMetadataAndWeightScales() throws Exception {
        Shapes s = Shapes.named("tiny-llama");
        for (GgmlType type : new GgmlType[]{GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K}) {
            Path p = dir.resolve("tiny-" + type + ".gguf");
            SyntheticGguf.write(s, type, p, 3);
            try (GgufFile f = GgufFile.open(p)) {
                assertEquals("llama", f.getString("general.architecture"));
                assertEquals("no_vocab", f.getString("tokenizer.ggml.model"));
                assertEquals(256, f.getLong("llama.embedding_length"));
                assertEquals(2, f.getLong("llama.block_count"));
                assertEquals(4, f.getLong("llama.attention.head_count"));
                assertEquals(2, f.getLong("llama.attention.head_count_kv"));
                assertEquals(768, f.getLong("llama.feed_forward_length"));
                assertEquals(1000, f.getLong("llama.vocab_size"));
                assertEquals(64, f.getLong("llama.rope.dimension_count"));
                assertEquals(1e-5, f.getDouble("llama.attention.layer_norm_rms_epsilon"), 1e-12);
                assertEquals(2 + 2 * 9 + 1, f.tensors().size());
                TensorInfo emb = f.tensor("token_embd.weight");
                assertEquals(type, emb.type());
                assertArrayEquals(new long[]{256, 1000}, emb.shape());
                assertArrayEquals(new long[]{256, 4 * 64}, f.tensor("blk.1.attn_q.weight").shape());
                assertArrayEquals(new long[]{256, 2 * 64}, f.tensor("blk.1.attn_k.weight").shape());
                assertArrayEquals(new long[]{4 * 64, 256}, f.tensor("blk.0.attn_output.weight").shape());
                assertArrayEquals(new long[]{768, 256}, f.tensor("blk.0.ffn_down.weight").shape());
                assertArrayEquals(new long[]{256, 768}, f.tensor("blk.0.ffn_up.weight").shape());
                assertEquals(GgmlType.F32, f.tensor("blk.0.attn_norm.weight").type());
                assertTrue(f.findTensor("output.weight").isPresent(), "untied shape has output.weight");

                var norm = f.data(f.tensor("output_norm.weight"));
                for (int i = 0; i < 256; i++) {
                    float v = norm.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i);
                    assertTrue(v >= 0.8f && v <= 1.2f, "norm weight " + v);
                }
                TensorInfo up = f.tensor("blk.1.ffn_up.weight");
                WeightMatrix w = WeightMatrices.reference(type, f.data(up), 768, 256);
                double sum = 0, sq = 0;
                float[] row = new float[256];
                for (int r = 0; r < 768; r++) {
                    w.row(r, row, 0);
                    for (float v : row) {
                        sum += v;
                        sq += v * v;
                    }
                }
                double n = 768 * 256, mean = sum / n, std = Math.sqrt(sq / n - mean * mean);
                assertEquals(SyntheticGguf.WEIGHT_STD, std, SyntheticGguf.WEIGHT_STD * STD_TOLERANCE, type + " weight std");
                assertEquals(0, mean, 0.002, type + " weight mean");
            }
        }
    }

    @Test
    void mixtralExpertsSlidingWindowAndLlama3Rope() throws Exception {
        Path moe = dir.resolve("moe.gguf");
        SyntheticGguf.write(Shapes.named("tiny-mixtral"), GgmlType.Q8_0, moe, 1);
        try (GgufFile f = GgufFile.open(moe)) {
            assertEquals(4, f.getLong("llama.expert_count"));
            assertEquals(2, f.getLong("llama.expert_used_count"));
            assertArrayEquals(new long[]{256, 512, 4}, f.tensor("blk.0.ffn_gate_exps.weight").shape());
            assertArrayEquals(new long[]{512, 256, 4}, f.tensor("blk.0.ffn_down_exps.weight").shape());
            assertArrayEquals(new long[]{256, 512, 4}, f.tensor("blk.1.ffn_up_exps.weight").shape());
            assertArrayEquals(new long[]{256, 4}, f.tensor("blk.1.ffn_gate_inp.weight").shape());
            assertFalse(f.findTensor("blk.0.ffn_gate.weight").isPresent());
        }
        Path swa = dir.resolve("swa.gguf");
        SyntheticGguf.write(Shapes.named("tiny-mistral"), GgmlType.F16, swa, 1);
        try (GgufFile f = GgufFile.open(swa)) {
            assertEquals(8, f.getLong("llama.attention.sliding_window"));
        }
        Path l3 = dir.resolve("l3.gguf");
        SyntheticGguf.write(Shapes.named("tiny-llama3"), GgmlType.Q4_0, l3, 1);
        try (GgufFile f = GgufFile.open(l3)) {
            assertFalse(f.findTensor("output.weight").isPresent(), "tied embeddings: no output.weight");
            TensorInfo rf = f.tensor("rope_freqs.weight");
            assertArrayEquals(new long[]{32}, rf.shape());
            var d = f.data(rf);
            var f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            // head_dim 64, base 5e5, original context 64, factor 8: the fastest frequency (wavelength 2 pi < 16) is
            // kept, the slowest (wavelength 2 pi * 5e5^(62/64) > 64) divided by the factor
            assertEquals(1f, d.getAtIndex(f32, 0));
            assertEquals(8f, d.getAtIndex(f32, 31));
            float mid = d.getAtIndex(f32, 8); // wavelength 2 pi * 5e5^(16/64) = 167.1 > 64: fully scaled
            assertEquals(8f, mid, 1e-6f);
        }
    }

    @Test
    void theEngineLoadsAndRunsWhatSynthWrites() throws Exception {
        for (String shape : new String[]{"tiny-llama", "tiny-mixtral"}) {
            Path p = dir.resolve(shape + ".gguf");
            SyntheticGguf.write(Shapes.named(shape), GgmlType.Q8_0, p, 5);
            try (LanguageModel m = Models.load(p)) {
                assertEquals(1000, m.config().vocabSize());
                float[] logits = m.forward(m.newCache(new dev.jllm.engine.kv.KvCacheOptions(dev.jllm.engine.kv.KvType.F32, 16)), 1, 2, 3);
                assertEquals(1000, logits.length);
                for (float v : logits) assertTrue(Float.isFinite(v), shape + " logits finite");
            }
        }
    }

    @Test
    void aVocabularyCanBeTakenFromAnotherGguf() throws Exception {
        Path source = Path.of(System.getProperty("jllm.shared.dir", "../shared")).resolve("models/stories260K/stories260K.gguf");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isRegularFile(source), "no " + source);
        Path p = dir.resolve("tiny-llama-vocab.gguf");
        SyntheticGguf.write(Shapes.named("tiny-llama"), new WeightMix.Uniform(GgmlType.Q8_0), p, 5, source);
        try (GgufFile src = GgufFile.open(source); GgufFile out = GgufFile.open(p)) {
            int n = src.getStringArray("tokenizer.ggml.tokens").size();
            assertEquals(src.getString("tokenizer.ggml.model"), out.getString("tokenizer.ggml.model"));
            assertEquals(src.getStringArray("tokenizer.ggml.tokens"), out.getStringArray("tokenizer.ggml.tokens"));
            assertArrayEquals(src.getFloatArray("tokenizer.ggml.scores"), out.getFloatArray("tokenizer.ggml.scores"));
            assertArrayEquals(src.getIntArray("tokenizer.ggml.token_type"), out.getIntArray("tokenizer.ggml.token_type"));
            assertEquals(src.getLong("tokenizer.ggml.bos_token_id"), out.getLong("tokenizer.ggml.bos_token_id"));
            assertEquals(src.getLong("tokenizer.ggml.eos_token_id"), out.getLong("tokenizer.ggml.eos_token_id"));
            assertEquals(n, out.getLong("llama.vocab_size"), "the vocabulary size follows the borrowed vocabulary");
            assertEquals(n, out.tensor("token_embd.weight").shape()[1]);
            try (LanguageModel m = Models.load(p)) {
                assertEquals(n, m.config().vocabSize());
                assertEquals(n, m.forward(m.newCache(new dev.jllm.engine.kv.KvCacheOptions(dev.jllm.engine.kv.KvType.F32, 8)), 1, 2).length);
            }
        }
    }

    /**
     * llama.cpp's Q4_K_M rule (use_more_bits: layers below n/8, from 7n/8 on, and every third from n/8 + 2) worked out by
     * hand: of 16 layers, 0, 1, 4, 7, 10, 13, 14 and 15 get Q6_K attn_v and ffn_down; of 2 layers, layer 1.
     */
    @Test
    void q4kmMixFollowsLlamaCppRules() throws Exception {
        java.util.Set<Integer> sixteen = java.util.Set.of(0, 1, 4, 7, 10, 13, 14, 15);
        for (int l = 0; l < 16; l++) {
            assertEquals(sixteen.contains(l), WeightMix.Q4KM.useMoreBits(l, 16), "layer " + l + " of 16");
        }
        Path p = dir.resolve("q4km.gguf");
        SyntheticGguf.write(Shapes.named("tiny-llama"), WeightMix.named("Q4_K_M"), p, 2);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(15, f.getLong("general.file_type"));
            assertEquals(GgmlType.Q4_K, f.tensor("token_embd.weight").type());
            assertEquals(GgmlType.Q6_K, f.tensor("output.weight").type());
            assertEquals(GgmlType.Q4_K, f.tensor("blk.0.attn_v.weight").type());
            assertEquals(GgmlType.Q4_K, f.tensor("blk.0.ffn_down.weight").type());
            assertEquals(GgmlType.Q6_K, f.tensor("blk.1.attn_v.weight").type());
            assertEquals(GgmlType.Q6_K, f.tensor("blk.1.ffn_down.weight").type());
            for (String t : new String[]{"attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"}) {
                assertEquals(GgmlType.Q4_K, f.tensor("blk.1." + t + ".weight").type(), t);
            }
        }
        try (LanguageModel m = Models.load(p)) {
            float[] logits = m.forward(m.newCache(new dev.jllm.engine.kv.KvCacheOptions(dev.jllm.engine.kv.KvType.F32, 16)), 1, 2, 3);
            for (float v : logits) assertTrue(Float.isFinite(v), "Q4_K_M logits finite");
        }
        Path tied = dir.resolve("q4km-tied.gguf");
        SyntheticGguf.write(Shapes.named("tiny-llama3"), WeightMix.named("q4_k_m"), tied, 2);
        try (GgufFile f = GgufFile.open(tied)) {
            assertEquals(GgmlType.Q6_K, f.tensor("token_embd.weight").type(), "tied embedding is the output projection");
        }
        assertThrows(IllegalArgumentException.class,
                () -> SyntheticGguf.write(Shapes.named("mixtral-8x7b"), WeightMix.named("Q4_K_M"), dir.resolve("m.gguf"), 1));
    }

    @Test
    void unknownShapesAndTypesAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shapes.named("llama-9000"));
        assertTrue(e.getMessage().contains("llama-3.2-1b"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> SyntheticGguf.write(Shapes.named("tiny-llama"), GgmlType.Q5_0, dir.resolve("x.gguf"), 1));
    }
}
