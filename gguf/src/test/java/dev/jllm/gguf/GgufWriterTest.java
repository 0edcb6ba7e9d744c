package dev.jllm.gguf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class GgufWriterTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsThroughTheReader() throws Exception {
        Path p = dir.resolve("t.gguf");
        try (GgufWriter w = new GgufWriter(p)) {
            w.putString("general.architecture", "llama")
                    .putU32("llama.block_count", 3)
                    .putF32("llama.rope.freq_base", 500000f)
                    .putBool("flag", true)
                    .putI32("neg", -7)
                    .putStringArray("tokenizer.ggml.tokens", List.of("a", "bé", ""))
                    .putF32Array("scores", new float[]{0.5f, -1f})
                    .putI32Array("types", new int[]{1, 2, 3})
                    .addTensor("norm.weight", GgmlType.F32, 5)
                    .addTensor("w.weight", GgmlType.Q8_0, 64, 3); // 3 rows of 2 blocks
            w.writeHeader();
            w.writeTensor("norm.weight", new float[]{1, 2, 3, 4, 5});
            w.writeTensor("w.weight", (first, count, dst) -> {
                for (int r = 0; r < count; r++) {
                    for (int i = 0; i < 68; i++) dst.put((byte) ((first + r) * 68 + i));
                }
            });
        }
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(3, f.version());
            assertEquals("llama", f.getString("general.architecture"));
            assertEquals(3, f.getLong("llama.block_count"));
            assertEquals(500000.0, f.getDouble("llama.rope.freq_base"));
            assertEquals(true, f.getBoolean("flag"));
            assertEquals(-7, f.getLong("neg"));
            assertEquals(List.of("a", "bé", ""), f.getStringArray("tokenizer.ggml.tokens"));
            assertArrayEquals(new float[]{0.5f, -1f}, f.getFloatArray("scores"));
            assertArrayEquals(new int[]{1, 2, 3}, f.getIntArray("types"));
            TensorInfo norm = f.tensor("norm.weight");
            assertEquals(GgmlType.F32, norm.type());
            assertArrayEquals(new long[]{5}, norm.shape());
            var nd = f.data(norm);
            for (int i = 0; i < 5; i++) {
                assertEquals(i + 1f, nd.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i));
            }
            TensorInfo t = f.tensor("w.weight");
            assertEquals(GgmlType.Q8_0, t.type());
            assertArrayEquals(new long[]{64, 3}, t.shape());
            assertEquals(0, t.offset() % 32, "tensor data aligned");
            var td = f.data(t);
            assertEquals(3 * 68, td.byteSize());
            for (int i = 0; i < 3 * 68; i++) assertEquals((byte) i, td.get(ValueLayout.JAVA_BYTE, i), "byte " + i);
        }
    }

    @Test
    void headerBytesFollowTheSpec() throws Exception {
        Path p = dir.resolve("h.gguf");
        try (GgufWriter w = new GgufWriter(p)) {
            w.putU32("k", 258);
            w.writeHeader();
        }
        byte[] b = Files.readAllBytes(p);
        // "GGUF", version 3, 0 tensors, 1 kv; key: len 1 "k"; type 4 (u32); 258
        byte[] want = {'G', 'G', 'U', 'F', 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
                1, 0, 0, 0, 0, 0, 0, 0, 'k', 4, 0, 0, 0, 2, 1, 0, 0};
        for (int i = 0; i < want.length; i++) assertEquals(want[i], b[i], "byte " + i);
        assertEquals(64, b.length, "padded to the 32-byte alignment");
    }

    @Test
    void misuseIsRejected() throws Exception {
        GgufWriter w = new GgufWriter(dir.resolve("m.gguf"));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("q", GgmlType.Q4_K, 100, 2));
        w.addTensor("a", GgmlType.F32, 4).addTensor("b", GgmlType.F32, 4);
        w.writeHeader();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> w.writeTensor("b", new float[4]));
        assertEquals("tensor data out of order: expected 'a', got 'b'", e.getMessage());
        w.writeTensor("a", new float[4]);
        assertThrows(IllegalStateException.class, w::close);
    }
}
