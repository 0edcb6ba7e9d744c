package dev.jllm.engine.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jllm.gguf.GgmlType;
import dev.jllm.gguf.GgufFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path tmp;

    /** Writes a safetensors file by hand: 8-byte length, the given header text, the given data bytes. */
    static Path write(Path file, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
        out.write(h);
        out.write(data);
        Files.write(file, out.toByteArray());
        return file;
    }

    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    @Test
    void readsF32F16Bf16TensorsAndMetadataWithoutCopying() throws IOException {
        // a: F32 [2,3] = 1..6 ; b: F16 [2] = 1.0, -2.0 (0x3C00, 0xC000) ; c: BF16 [1] = 1.5 (0x3FC0)
        byte[] a = floats(1, 2, 3, 4, 5, 6);
        byte[] b = {0x00, 0x3C, 0x00, (byte) 0xC0};
        byte[] c = {(byte) 0xC0, 0x3F};
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                + "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[24,28]},"
                + "\"c\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[28,30]}}   ";
        Path f = write(tmp.resolve("x.safetensors"), header, concat(a, b, c));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertEquals(Map.of("format", "pt"), st.metadata());
            assertEquals(java.util.List.of("a", "b", "c"), java.util.List.copyOf(st.tensors().keySet()));
            SafetensorsTensor ta = st.tensor("a");
            assertEquals(GgmlType.F32, ta.type());
            assertArrayEquals(new long[] {2, 3}, ta.shape());
            assertEquals(6f, ta.data().get(F32, 20));
            assertTrue(ta.data().isMapped() || ta.data().isNative(), "a view of the mapped file, not a heap copy");
            SafetensorsTensor tb = st.tensor("b");
            assertEquals(GgmlType.F16, tb.type());
            assertEquals(-2f, Float.float16ToFloat(tb.data().get(U16, 2)));
            SafetensorsTensor tc = st.tensor("c");
            assertEquals(GgmlType.BF16, tc.type());
            assertEquals(1.5f, Float.intBitsToFloat((tc.data().get(U16, 0) & 0xffff) << 16));
            var missing = assertThrows(IllegalArgumentException.class, () -> st.tensor("model.norm.weight"));
            assertTrue(missing.getMessage().contains("'model.norm.weight' not found"), missing.getMessage());
        }
    }

    @Test
    void shardedModelFollowsTheIndex() throws IOException {
        write(tmp.resolve("model-00001-of-00002.safetensors"),
                "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats(7));
        write(tmp.resolve("model-00002-of-00002.safetensors"),
                "{\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", floats(8, 9));
        Files.writeString(tmp.resolve(SafetensorsModel.INDEX_FILE), "{\"metadata\":{\"total_size\":12},\"weight_map\":"
                + "{\"x\":\"model-00001-of-00002.safetensors\",\"y\":\"model-00002-of-00002.safetensors\"}}");
        try (SafetensorsModel m = SafetensorsModel.open(tmp)) {
            assertEquals(7f, m.tensor("x").data().get(F32, 0));
            assertEquals(9f, m.tensor("y").data().get(F32, 4));
            assertTrue(m.tensor("y").file().endsWith("model-00002-of-00002.safetensors"));
        }
        // an index that points at the wrong shard names the tensor
        Files.writeString(tmp.resolve(SafetensorsModel.INDEX_FILE), "{\"weight_map\":"
                + "{\"x\":\"model-00002-of-00002.safetensors\"}}");
        var e = assertThrows(IllegalArgumentException.class, () -> SafetensorsModel.open(tmp));
        assertTrue(e.getMessage().contains("'x'") && e.getMessage().contains("does not hold it"), e.getMessage());
    }

    @Test
    void badFilesGiveErrorsNamingTheProblem() throws IOException {
        assertError(write(tmp.resolve("short"), "", new byte[0]), "not plausible"); // header length 0
        Files.write(tmp.resolve("tiny"), new byte[3]);
        assertError(tmp.resolve("tiny"), "shorter than the 8-byte header length");
        assertError(write(tmp.resolve("json"), "{\"a\":", new byte[0]), "not valid JSON");
        assertError(write(tmp.resolve("dtype"), "{\"w\":{\"dtype\":\"F7\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                floats(1)), "tensor 'w': unknown dtype F7");
        assertError(write(tmp.resolve("past"), "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
                floats(1, 2)), "tensor 'w': data_offsets end 16 is past the end of the data (8 bytes)");
        assertError(write(tmp.resolve("size"), "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
                floats(1, 2)), "tensor 'w': holds 8 bytes but F32[3] needs 12");
        // header length larger than the file
        byte[] raw = new byte[16];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).putLong(1000);
        Files.write(tmp.resolve("trunc"), raw);
        assertError(tmp.resolve("trunc"), "runs past the end of the file");
        // an I64 tensor can be opened, but not used as weights
        Path ints = write(tmp.resolve("ints"), "{\"pos\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
                new byte[8]);
        try (SafetensorsFile st = SafetensorsFile.open(ints)) {
            var e = assertThrows(IllegalArgumentException.class, () -> st.tensor("pos").type());
            assertTrue(e.getMessage().contains("'pos'") && e.getMessage().contains("I64"), e.getMessage());
        }
    }

    static void assertError(Path file, String expected) {
        var e = assertThrows(IllegalArgumentException.class, () -> SafetensorsFile.open(file).close());
        assertTrue(e.getMessage().contains(expected), "message: " + e.getMessage());
        assertTrue(e.getMessage().contains(file.getFileName().toString()), "names the file: " + e.getMessage());
    }

    @Test
    void realCheckpointAgreesWithItsGgufConversion() throws IOException {
        // the same random Llama 2 weights as HF safetensors and as llama.cpp's F32 GGUF: the token embedding is
        // stored untouched by the converter, so both readers must see the same floats
        Path shared = Path.of(System.getProperty("jllm.shared.dir", "../shared"));
        Path dir = shared.resolve("golden/random/llama2-mha");
        Assumptions.assumeTrue(Files.isDirectory(dir), "shared reference data not found at " + dir);
        try (SafetensorsModel m = SafetensorsModel.open(dir.resolve("hf"));
             GgufFile g = GgufFile.open(dir.resolve("llama2-mha-f32.gguf"))) {
            SafetensorsTensor emb = m.tensor("model.embed_tokens.weight");
            assertArrayEquals(new long[] {2048, 64}, emb.shape());
            MemorySegment ref = g.data(g.tensor("token_embd.weight"));
            assertEquals(ref.byteSize(), emb.data().byteSize());
            assertEquals(-1L, ref.mismatch(emb.data()), "embedding bytes differ");
            assertEquals(21, m.tensors().size()); // 2 + 9 per layer x 2 + final norm
        }
    }
}
