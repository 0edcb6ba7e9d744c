package dev.jllm.engine.model.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jllm.engine.LoadOptions;
import dev.jllm.engine.llama.Transformer;
import dev.jllm.engine.safetensors.SafetensorsModel;
import dev.jllm.engine.safetensors.SafetensorsTensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HF loader on rewritten copies of a shared checkpoint: F16/BF16 weights, sharding, broken checkpoints. */
class HfLoaderTest {
    static final Path SRC = Path.of(System.getProperty("jllm.shared.dir", "../shared")).resolve("golden/random/llama2-mha");
    /** F16 weights (11-bit mantissa) move these logits by ~1e-3; BF16 (8-bit) by ~1e-2. */
    static final float F16_LOGIT_TOLERANCE = 0.01f;
    static final float BF16_LOGIT_TOLERANCE = 0.08f;
    static final int[] PROMPT = {1, 80, 147, 201, 282, 215, 286, 598};

    @TempDir
    Path tmp;

    /** Rewrites the shared F32 checkpoint into {@code dir} with tensors converted to {@code dtype}, minus one. */
    static void rewrite(Path dir, String dtype, String drop, UnaryOperator<String> rename) throws IOException {
        Files.createDirectories(dir);
        Files.copy(SRC.resolve("hf/config.json"), dir.resolve("config.json"));
        Map<String, byte[]> data = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        try (SafetensorsModel m = SafetensorsModel.open(SRC.resolve("hf"))) {
            for (SafetensorsTensor t : m.tensors().values()) {
                if (t.name().equals(drop)) continue;
                float[] f = t.data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
                ByteBuffer b = ByteBuffer.allocate(f.length * (dtype.equals("F32") ? 4 : 2)).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : f) {
                    switch (dtype) {
                        case "F32" -> b.putFloat(v);
                        case "F16" -> b.putShort(Float.floatToFloat16(v));
                        case "BF16" -> { // round to nearest even
                            int bits = Float.floatToRawIntBits(v);
                            b.putShort((short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16));
                        }
                        default -> throw new IllegalArgumentException(dtype);
                    }
                }
                data.put(rename.apply(t.name()), b.array());
                shapes.put(rename.apply(t.name()), t.shape());
            }
        }
        writeSafetensors(dir.resolve("model.safetensors"), dtype, data, shapes);
    }

    static void writeSafetensors(Path file, String dtype, Map<String, byte[]> data, Map<String, long[]> shapes)
            throws IOException {
        StringBuilder h = new StringBuilder("{");
        long off = 0;
        for (var e : data.entrySet()) {
            if (h.length() > 1) h.append(',');
            h.append('"').append(e.getKey()).append("\":{\"dtype\":\"").append(dtype).append("\",\"shape\":")
                    .append(java.util.Arrays.toString(shapes.get(e.getKey())).replace(" ", ""))
                    .append(",\"data_offsets\":[").append(off).append(',').append(off + e.getValue().length).append("]}");
            off += e.getValue().length;
        }
        h.append('}');
        while (h.length() % 8 != 0) h.append(' ');
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
        out.writeBytes(header);
        for (byte[] d : data.values()) out.writeBytes(d);
        Files.write(file, out.toByteArray());
    }

    static float maxDiff(float[][] a, float[][] b) {
        float worst = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) worst = Math.max(worst, Math.abs(a[i][j] - b[i][j]));
        }
        return worst;
    }

    @Test
    void halfPrecisionCheckpointsStayCloseToF32() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(SRC), "shared reference data not found at " + SRC);
        float[][] ref;
        try (Transformer m = HfModelLoader.load(SRC.resolve("hf"), LoadOptions.DEFAULT)) {
            ref = m.forwardAll(m.newCache(), PROMPT);
        }
        for (String dtype : new String[] {"F16", "BF16"}) {
            Path dir = tmp.resolve(dtype);
            rewrite(dir, dtype, null, UnaryOperator.identity());
            try (Transformer m = HfModelLoader.load(dir, LoadOptions.DEFAULT)) {
                float d = maxDiff(ref, m.forwardAll(m.newCache(), PROMPT));
                System.out.printf("HF %s checkpoint vs F32: max |logit diff| %.3g%n", dtype, d);
                assertTrue(d <= (dtype.equals("F16") ? F16_LOGIT_TOLERANCE : BF16_LOGIT_TOLERANCE), dtype + ": " + d);
                assertTrue(d > 0, dtype + ": the weights really were rounded");
            }
        }
    }

    @Test
    void multimodalPrefixIsFollowed() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(SRC), "shared reference data not found at " + SRC);
        Path dir = tmp.resolve("prefixed");
        rewrite(dir, "F32", null, n -> HfTensorNames.MULTIMODAL_PREFIX + n);
        try (Transformer plain = HfModelLoader.load(SRC.resolve("hf"), LoadOptions.DEFAULT);
             Transformer prefixed = HfModelLoader.load(dir, LoadOptions.DEFAULT)) {
            assertEquals(0f, maxDiff(plain.forwardAll(plain.newCache(), PROMPT),
                    prefixed.forwardAll(prefixed.newCache(), PROMPT)));
        }
    }

    @Test
    void missingOrMisshapenTensorsAreNamed() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(SRC), "shared reference data not found at " + SRC);
        Path missing = tmp.resolve("missing");
        rewrite(missing, "F32", "model.layers.1.mlp.up_proj.weight", UnaryOperator.identity());
        var e1 = assertThrows(IllegalArgumentException.class, () -> HfModelLoader.load(missing, LoadOptions.DEFAULT));
        assertTrue(e1.getMessage().contains("'model.layers.1.mlp.up_proj.weight' not found"), e1.getMessage());

        Path noHead = tmp.resolve("nohead");
        rewrite(noHead, "F32", "lm_head.weight", UnaryOperator.identity());
        var e2 = assertThrows(IllegalArgumentException.class, () -> HfModelLoader.load(noHead, LoadOptions.DEFAULT));
        assertTrue(e2.getMessage().contains("'lm_head.weight' not found") && e2.getMessage().contains("tie_word_embeddings"),
                e2.getMessage());

        Path shape = tmp.resolve("shape");
        rewrite(shape, "F32", null, UnaryOperator.identity());
        Files.writeString(shape.resolve("config.json"),
                Files.readString(shape.resolve("config.json")).replace("\"intermediate_size\": 172", "\"intermediate_size\": 170"));
        var e3 = assertThrows(IllegalArgumentException.class, () -> HfModelLoader.load(shape, LoadOptions.DEFAULT));
        assertTrue(e3.getMessage().contains("'model.layers.0.mlp.gate_proj.weight'")
                && e3.getMessage().contains("has shape [172, 64], the config needs [170, 64]"), e3.getMessage());
    }

    @Test
    void unknownTensorsAreRefusedNotIgnored() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(SRC), "shared reference data not found at " + SRC);
        Path dir = tmp.resolve("bias");
        // rename the final norm to a bias name the blocks do not know: the loader must complain about both
        rewrite(dir, "F32", null, n -> n.equals("model.layers.1.input_layernorm.weight")
                ? "model.layers.1.self_attn.q_proj.bias" : n);
        var e = assertThrows(IllegalArgumentException.class, () -> HfModelLoader.load(dir, LoadOptions.DEFAULT));
        assertTrue(e.getMessage().contains("'model.layers.1.input_layernorm.weight' not found"), e.getMessage());
        Path extra = tmp.resolve("extra");
        rewrite(extra, "F32", null, UnaryOperator.identity());
        // a checkpoint with one tensor more than the architecture uses
        Map<String, byte[]> data = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        try (SafetensorsModel m = SafetensorsModel.open(extra)) {
            for (SafetensorsTensor t : m.tensors().values()) {
                data.put(t.name(), t.data().toArray(ValueLayout.JAVA_BYTE));
                shapes.put(t.name(), t.shape());
            }
        }
        data.put("model.layers.0.self_attn.q_proj.bias", new byte[64 * 4]);
        shapes.put("model.layers.0.self_attn.q_proj.bias", new long[] {64});
        writeSafetensors(extra.resolve("model.safetensors"), "F32", data, shapes);
        var e2 = assertThrows(IllegalArgumentException.class, () -> HfModelLoader.load(extra, LoadOptions.DEFAULT));
        assertTrue(e2.getMessage().contains("'model.layers.0.self_attn.q_proj.bias'"), e2.getMessage());
    }

    @Test
    void tiedCheckpointMayStoreBothNamesAndUsesTheEmbedding() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(SRC), "shared reference data not found at " + SRC);
        Path both = tmp.resolve("both");
        rewrite(both, "F32", null, UnaryOperator.identity());
        Path cfg = both.resolve("config.json");
        Files.writeString(cfg, Files.readString(cfg).replace("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": true"));
        Path embOnly = tmp.resolve("embOnly");
        rewrite(embOnly, "F32", "lm_head.weight", UnaryOperator.identity());
        Files.copy(cfg, embOnly.resolve("config.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try (Transformer a = HfModelLoader.load(both, LoadOptions.DEFAULT);
             Transformer b = HfModelLoader.load(embOnly, LoadOptions.DEFAULT)) {
            assertTrue(a.config().tiedEmbeddings());
            assertEquals(0f, maxDiff(a.forwardAll(a.newCache(), PROMPT), b.forwardAll(b.newCache(), PROMPT)));
        }
    }

    @Test
    void weightBytesPerTokenCountOneEmbeddingRow() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(SRC), "shared reference data not found at " + SRC);
        try (Transformer m = HfModelLoader.load(SRC.resolve("hf"), LoadOptions.DEFAULT)) {
            // by hand, F32: lm_head 2048x64 + one embedding row 64 + 2 layers x (q,k,v,o 4x64x64 + 3x64x172)
            long expected = 4L * (2048 * 64 + 64 + 2 * (4 * 64 * 64 + 3 * 64 * 172));
            assertEquals(expected, m.weightBytes());
        }
    }

    @Test
    void formatAcceptsOnlyHfFolders() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(SRC), "shared reference data not found at " + SRC);
        HfModelFormat f = new HfModelFormat();
        assertTrue(f.accepts(SRC.resolve("hf")));
        assertFalse(f.accepts(SRC.resolve("llama2-mha-f32.gguf")));
        assertFalse(f.accepts(tmp));
    }
}
