package dev.jllm.gguf;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufFileTest {
    static final Path SHARED = Path.of(System.getProperty("jllm.shared.dir", "../shared"));

    @TempDir
    Path tmp;

    // ---- real models ----

    @Test
    void readsStories260K() throws IOException {
        Path p = SHARED.resolve("models/stories260K/stories260K.gguf");
        Assumptions.assumeTrue(Files.exists(p), "shared model missing: " + p);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals("llama", f.getString("general.architecture"));
            assertEquals(64, f.getLong("llama.embedding_length"));
            assertEquals(5, f.getLong("llama.block_count"));
            assertEquals(8, f.getLong("llama.attention.head_count"));
            assertEquals(4, f.getLong("llama.attention.head_count_kv"));
            assertEquals(1e-5, f.getDouble("llama.attention.layer_norm_rms_epsilon"), 1e-9);
            assertEquals(512, f.getStringArray("tokenizer.ggml.tokens").size());
            assertEquals(512, f.getFloatArray("tokenizer.ggml.scores").length);
            assertEquals(512, f.getIntArray("tokenizer.ggml.token_type").length);
            List<String> tokens = f.getStringArray("tokenizer.ggml.tokens");
            assertEquals(List.of("<unk>", "<s>", "</s>"), tokens.subList(0, 3));
            assertEquals("<0x00>", tokens.get(3));
            assertEquals(tokens.get(511), List.copyOf(tokens).get(511));
            assertEquals(0f, f.getFloatArray("tokenizer.ggml.scores")[0]);
            assertEquals(2, f.getIntArray("tokenizer.ggml.token_type")[0], "unknown token type");
            assertThrows(GgufException.class, () -> f.getIntArray("tokenizer.ggml.scores"), "floats are not ints");
            assertThrows(GgufException.class, () -> f.getFloatArray("tokenizer.ggml.tokens"));
            TensorInfo emb = f.tensor("token_embd.weight");
            assertEquals(GgmlType.F32, emb.type());
            assertArrayEquals(new long[] {64, 512}, emb.shape());
            assertEquals(64L * 512 * 4, emb.byteSize());
            MemorySegment d = f.data(emb);
            assertEquals(emb.byteSize(), d.byteSize());
            assertTrue(d.isReadOnly());
            // the output weight is a copy of the embedding in this file
            MemorySegment out = f.data(f.tensor("output.weight"));
            assertEquals(-1, d.mismatch(out));
            // 5 layers x 9 tensors + embd + norm + output
            assertEquals(5 * 9 + 3, f.tensors().size());
            assertTrue(f.findTensor("nope").isEmpty());
            GgufException e = assertThrows(GgufException.class, () -> f.tensor("blk.9.attn_q.weight"));
            assertTrue(e.getMessage().contains("blk.9.attn_q.weight"), e.getMessage());
            e = assertThrows(GgufException.class, () -> f.getString("no.such.key"));
            assertTrue(e.getMessage().contains("no.such.key"), e.getMessage());
            e = assertThrows(GgufException.class, () -> f.getString("llama.block_count"));
            assertTrue(e.getMessage().contains("llama.block_count"), e.getMessage());
            assertTrue(f.findLong("no.such.key").isEmpty());
            assertEquals(5, f.findLong("llama.block_count").getAsLong());
        }
    }

    @Test
    void readsQuantizedTinyStories() throws IOException {
        for (String q : List.of("f32", "Q8_0", "Q4_0")) {
            Path p = SHARED.resolve("models/tinystories656K/TinyStories-656K-" + q + ".gguf");
            Assumptions.assumeTrue(Files.exists(p), "shared model missing: " + p);
            try (GgufFile f = GgufFile.open(p)) {
                assertEquals(128, f.getLong("llama.embedding_length"));
                assertEquals(2048, f.getStringArray("tokenizer.ggml.tokens").size());
                TensorInfo wq = f.tensor("blk.0.attn_q.weight");
                assertArrayEquals(new long[] {128, 128}, wq.shape());
                GgmlType expect = q.equals("f32") ? GgmlType.F32 : GgmlType.valueOf(q);
                assertEquals(expect, wq.type(), q);
                assertEquals(expect.bytesFor(128 * 128), wq.byteSize());
                assertTrue(f.findTensor("output.weight").isEmpty(), "tied embeddings");
                for (TensorInfo t : f.tensors()) {
                    assertEquals(0, t.offset() % f.alignment(), t.name());
                }
            }
        }
    }

    // ---- hand-built files ----

    /** Minimal little-endian GGUF byte builder for the tests. */
    static final class B {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        B u32(long v) {
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v);
            out.writeBytes(b.array());
            return this;
        }

        B u64(long v) {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
            out.writeBytes(b.array());
            return this;
        }

        B f32(float v) {
            return u32(Float.floatToRawIntBits(v));
        }

        B str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            out.writeBytes(b);
            return this;
        }

        B pad(int align) {
            while (out.size() % align != 0) out.write(0);
            return this;
        }

        B bytes(int n) {
            for (int i = 0; i < n; i++) out.write(i);
            return this;
        }

        byte[] get() {
            return out.toByteArray();
        }
    }

    /** A valid v3 file: 4 metadata keys and one 4x2 F32 tensor 't' holding 0..7. */
    static B valid(int version, int typeId, long ne0) {
        B b = new B().u32(GgufFile.MAGIC).u32(version).u64(1).u64(4);
        b.str("general.architecture").u32(8).str("llama");
        b.str("x.u32").u32(4).u32(7);
        b.str("x.f32").u32(6).f32(0.5f);
        b.str("x.arr").u32(9).u32(5).u64(3).u32(1).u32(-2).u32(3);
        b.str("t").u32(2).u64(ne0).u64(2).u32(typeId).u64(0);
        b.pad(32);
        for (int i = 0; i < 8; i++) b.f32(i);
        return b;
    }

    Path write(byte[] bytes) throws IOException {
        Path p = Files.createTempFile(tmp, "t", ".gguf");
        Files.write(p, bytes);
        return p;
    }

    GgufException fails(byte[] bytes) throws IOException {
        Path p = write(bytes);
        GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(p).close());
        assertTrue(e.getMessage().contains(p.toString()), "names the file: " + e.getMessage());
        return e;
    }

    @Test
    void handBuiltValidFileV2AndV3() throws IOException {
        for (int v : new int[] {2, 3}) {
            try (GgufFile f = GgufFile.open(write(valid(v, 0, 4).get()))) {
                assertEquals(v, f.version());
                assertEquals("llama", f.getString("general.architecture"));
                assertEquals(7, f.getLong("x.u32"));
                assertEquals(0.5, f.getDouble("x.f32"));
                assertArrayEquals(new int[] {1, -2, 3}, f.getIntArray("x.arr"));
                assertArrayEquals(new float[] {1, -2, 3}, f.getFloatArray("x.arr"));
                TensorInfo t = f.tensor("t");
                assertArrayEquals(new long[] {4, 2}, t.shape());
                MemorySegment d = f.data(t);
                assertEquals(32, d.byteSize());
                assertEquals(5f, d.get(ValueLayout.JAVA_FLOAT_UNALIGNED, 20));
                assertThrows(GgufException.class, () -> f.getStringArray("x.arr"));
            }
        }
    }

    @Test
    void arraysAreViewsValidWhileOpen() throws IOException {
        GgufFile f = GgufFile.open(write(valid(3, 0, 4).get()));
        List<?> arr = (List<?>) f.metadata().get("x.arr");
        assertEquals(List.of(1L, -2L, 3L), arr);
        f.close();
        assertThrows(IllegalStateException.class, () -> arr.get(0));
    }

    @Test
    void honoursAlignment() throws IOException {
        B b = new B().u32(GgufFile.MAGIC).u32(3).u64(1).u64(1);
        b.str("general.alignment").u32(4).u32(64);
        b.str("t").u32(1).u64(2).u32(0).u64(0);
        b.pad(64).f32(3).f32(4);
        try (GgufFile f = GgufFile.open(write(b.get()))) {
            assertEquals(64, f.alignment());
            assertEquals(4f, f.data(f.tensor("t")).get(ValueLayout.JAVA_FLOAT_UNALIGNED, 4));
        }
    }

    @Test
    void badMagic() throws IOException {
        byte[] bytes = valid(3, 0, 4).get();
        bytes[0] = 'X';
        assertTrue(fails(bytes).getMessage().contains("magic"));
    }

    @Test
    void unsupportedVersion() throws IOException {
        assertTrue(fails(valid(1, 0, 4).get()).getMessage().contains("version 1"));
        assertTrue(fails(valid(4, 0, 4).get()).getMessage().contains("version 4"));
    }

    @Test
    void truncatedHeader() throws IOException {
        byte[] bytes = valid(3, 0, 4).get();
        for (int cut : new int[] {0, 3, 10, 30, 60, 100}) {
            GgufException e = fails(java.util.Arrays.copyOf(bytes, cut));
            assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("magic"), e.getMessage());
        }
    }

    @Test
    void truncatedInMetadataNamesTheKey() throws IOException {
        byte[] bytes = valid(3, 0, 4).get();
        // cut in the middle of the "x.arr" value
        int cut = indexOf(bytes, "x.arr".getBytes(StandardCharsets.UTF_8)) + 5 + 8;
        GgufException e = fails(java.util.Arrays.copyOf(bytes, cut));
        assertTrue(e.getMessage().contains("x.arr"), e.getMessage());
    }

    @Test
    void unknownTensorType() throws IOException {
        GgufException e = fails(valid(3, 99, 4).get());
        assertTrue(e.getMessage().contains("'t'") && e.getMessage().contains("99"), e.getMessage());
    }

    @Test
    void dataPastEndOfFile() throws IOException {
        byte[] bytes = valid(3, 0, 4).get();
        GgufException e = fails(java.util.Arrays.copyOf(bytes, bytes.length - 4));
        assertTrue(e.getMessage().contains("'t'") && e.getMessage().contains("past the end"), e.getMessage());
    }

    @Test
    void shapeInconsistentWithBlockSize() throws IOException {
        // Q8_0 (id 8) with a row of 4 elements: not a multiple of 32
        GgufException e = fails(valid(3, 8, 4).get());
        assertTrue(e.getMessage().contains("'t'") && e.getMessage().contains("block size"), e.getMessage());
    }

    @Test
    void zeroDimension() throws IOException {
        GgufException e = fails(valid(3, 0, 0).get());
        assertTrue(e.getMessage().contains("'t'"), e.getMessage());
    }

    @Test
    void unknownMetadataType() throws IOException {
        B b = new B().u32(GgufFile.MAGIC).u32(3).u64(0).u64(1);
        b.str("weird.key").u32(42).u32(0);
        GgufException e = fails(b.get());
        assertTrue(e.getMessage().contains("weird.key") && e.getMessage().contains("42"), e.getMessage());
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        throw new AssertionError();
    }
}
