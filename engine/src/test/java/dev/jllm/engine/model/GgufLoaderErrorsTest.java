package dev.jllm.engine.model;

import static org.junit.jupiter.api.Assertions.*;

import dev.jllm.engine.LoadOptions;
import dev.jllm.engine.Models;
import dev.jllm.gguf.GgufException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad model files give errors naming the tensor or key, at load time, not deep in a kernel. */
class GgufLoaderErrorsTest {
    @TempDir
    Path tmp;

    /** A minimal GGUF writer for hand-made files: metadata (strings, u32, f32) and F32 / raw tensors. */
    static final class Tiny {
        final Map<String, Object> meta = new LinkedHashMap<>();
        final List<Object[]> tensors = new ArrayList<>(); // name, type id, shape long[], bytes

        Tiny f32(String name, long... shape) {
            long n = 1;
            for (long d : shape) n *= d;
            byte[] b = new byte[(int) n * 4];
            ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) bb.putFloat(i * 4, (float) Math.sin(i + name.length()) * 0.1f);
            tensors.add(new Object[] {name, 0, shape, b});
            return this;
        }

        Tiny raw(String name, int type, byte[] data, long... shape) {
            tensors.add(new Object[] {name, type, shape, data});
            return this;
        }

        byte[] bytes() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer h = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            h.putInt(0x46554747).putInt(3).putLong(tensors.size()).putLong(meta.size());
            for (var e : meta.entrySet()) {
                str(h, e.getKey());
                Object v = e.getValue();
                if (v instanceof String s) {
                    h.putInt(8);
                    str(h, s);
                } else if (v instanceof Integer i) {
                    h.putInt(4).putInt(i);
                } else if (v instanceof Float f) {
                    h.putInt(6).putFloat(f);
                }
            }
            long off = 0;
            for (Object[] t : tensors) {
                str(h, (String) t[0]);
                long[] shape = (long[]) t[2];
                h.putInt(shape.length);
                for (long d : shape) h.putLong(d);
                h.putInt((Integer) t[1]).putLong(off);
                off += (((byte[]) t[3]).length + 31) / 32 * 32;
            }
            while (h.position() % 32 != 0) h.put((byte) 0);
            out.write(h.array(), 0, h.position());
            for (Object[] t : tensors) {
                byte[] b = (byte[]) t[3];
                out.writeBytes(b);
                out.writeBytes(new byte[(b.length + 31) / 32 * 32 - b.length]);
            }
            return out.toByteArray();
        }

        private static void str(ByteBuffer h, String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            h.putLong(b.length).put(b);
        }
    }

    /** A valid 1-layer llama: dim 32, 2 heads, 1 KV head, FFN 64, vocab 40. */
    static Tiny model() {
        Tiny t = new Tiny();
        t.meta.put("general.architecture", "llama");
        t.meta.put("llama.embedding_length", 32);
        t.meta.put("llama.block_count", 1);
        t.meta.put("llama.feed_forward_length", 64);
        t.meta.put("llama.attention.head_count", 2);
        t.meta.put("llama.attention.head_count_kv", 1);
        t.meta.put("llama.context_length", 64);
        t.meta.put("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        t.f32("token_embd.weight", 32, 40).f32("output_norm.weight", 32);
        t.f32("blk.0.attn_norm.weight", 32).f32("blk.0.ffn_norm.weight", 32);
        t.f32("blk.0.attn_q.weight", 32, 32).f32("blk.0.attn_k.weight", 32, 16).f32("blk.0.attn_v.weight", 32, 16);
        t.f32("blk.0.attn_output.weight", 32, 32);
        t.f32("blk.0.ffn_gate.weight", 32, 64).f32("blk.0.ffn_up.weight", 32, 64).f32("blk.0.ffn_down.weight", 64, 32);
        return t;
    }

    Path write(Tiny t) throws IOException {
        Path p = Files.createTempFile(tmp, "m", ".gguf");
        Files.write(p, t.bytes());
        return p;
    }

    GgufException fails(Tiny t) throws IOException {
        Path p = write(t);
        GgufException e = assertThrows(GgufException.class, () -> Models.load(p, LoadOptions.DEFAULT).close());
        assertTrue(e.getMessage().contains(p.toString()), "names the file: " + e.getMessage());
        return e;
    }

    @Test
    void validModelLoadsAndRuns() throws IOException {
        try (var m = Models.load(write(model()), LoadOptions.DEFAULT)) {
            assertTrue(m.config().tiedEmbeddings());
            float[] logits = m.forward(m.newCache(), 1, 2, 3);
            assertEquals(40, logits.length);
            for (float v : logits) assertTrue(Float.isFinite(v));
        }
    }

    @Test
    void wrongShapeNamesTheTensor() throws IOException {
        Tiny t = model();
        t.tensors.removeIf(x -> x[0].equals("blk.0.attn_k.weight"));
        t.f32("blk.0.attn_k.weight", 32, 32); // 2 KV heads' worth for a 1-KV-head config
        GgufException e = fails(t);
        assertTrue(e.getMessage().contains("blk.0.attn_k.weight") && e.getMessage().contains("[32, 16]"), e.getMessage());
    }

    @Test
    void missingTensorNamesIt() throws IOException {
        Tiny t = model();
        t.tensors.removeIf(x -> x[0].equals("blk.0.ffn_up.weight"));
        assertTrue(fails(t).getMessage().contains("blk.0.ffn_up.weight"));
    }

    @Test
    void missingKeyNamesIt() throws IOException {
        Tiny t = model();
        t.meta.remove("llama.block_count");
        assertTrue(fails(t).getMessage().contains("llama.block_count"));
    }

    @Test
    void unsupportedArchitecture() throws IOException {
        Tiny t = model();
        t.meta.put("general.architecture", "gpt2");
        assertTrue(fails(t).getMessage().contains("gpt2"));
    }

    @Test
    void unsupportedWeightTypeNamesTheTensor() throws IOException {
        Tiny t = model();
        t.tensors.removeIf(x -> x[0].equals("blk.0.attn_q.weight"));
        // Q5_0 (id 6): 32 weights in 22 bytes; 32 rows
        t.raw("blk.0.attn_q.weight", 6, new byte[32 * 22], 32, 32);
        GgufException e = fails(t);
        assertTrue(e.getMessage().contains("blk.0.attn_q.weight") && e.getMessage().contains("Q5_0"), e.getMessage());
    }

    /** The same random MoE stored as 3-D expert tensors and as older per-expert 2-D tensors gives the same logits. */
    @Test
    void moeExpertLayoutsAgree() throws IOException {
        int dim = 32, ffn = 64, experts = 3;
        java.util.function.Function<Boolean, Tiny> build = stacked -> {
            Tiny t = model();
            t.meta.put("llama.expert_count", experts);
            t.meta.put("llama.expert_used_count", 2);
            t.tensors.removeIf(x -> ((String) x[0]).startsWith("blk.0.ffn_") && !x[0].equals("blk.0.ffn_norm.weight"));
            t.f32("blk.0.ffn_gate_inp.weight", dim, experts);
            for (String w : new String[] {"gate", "up", "down"}) {
                long[] shape = w.equals("down") ? new long[] {ffn, dim} : new long[] {dim, ffn};
                Tiny parts = new Tiny();
                for (int e = 0; e < experts; e++) parts.f32("blk.0.ffn_" + w + "." + e + ".weight", shape);
                if (stacked) {
                    ByteArrayOutputStream all = new ByteArrayOutputStream();
                    for (Object[] p : parts.tensors) all.writeBytes((byte[]) p[3]);
                    t.raw("blk.0.ffn_" + w + "_exps.weight", 0, all.toByteArray(), shape[0], shape[1], experts);
                } else {
                    t.tensors.addAll(parts.tensors);
                }
            }
            return t;
        };
        try (var a = Models.load(write(build.apply(true)), LoadOptions.DEFAULT);
             var b = Models.load(write(build.apply(false)), LoadOptions.DEFAULT)) {
            assertEquals(3, a.config().nExperts());
            float[] la = a.forward(a.newCache(), 1, 2, 3, 4), lb = b.forward(b.newCache(), 1, 2, 3, 4);
            assertArrayEquals(la, lb);
            try (var dense = Models.load(write(model()), LoadOptions.DEFAULT)) {
                assertFalse(java.util.Arrays.equals(la, dense.forward(dense.newCache(), 1, 2, 3, 4)), "the experts matter");
            }
        }
    }
}
