package dev.jllm.engine.bench;

import dev.jllm.engine.tensor.MatOps;
import dev.jllm.engine.tensor.Quantize;
import dev.jllm.gguf.GgmlType;
import dev.jllm.gguf.GgufWriter;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Writes a random-weight GGUF of a named {@link Shapes shape} in llama.cpp's "llama" layout: the metadata its
 * converter writes ({@code general.*}, {@code llama.*}), {@code tokenizer.ggml.model = no_vocab}, tensors named
 * {@code token_embd.weight}, {@code blk.N.attn_q.weight} ... ({@code ffn_*_exps} and {@code ffn_gate_inp} for MoE),
 * {@code output_norm.weight}, {@code output.weight} (absent when tied), {@code rope_freqs.weight} for Llama 3 RoPE
 * scaling. Streams rows to the file, so a multi-GB model needs a few MB of heap.
 *
 * <p>Weights: matrices uniform with standard deviation {@value #WEIGHT_STD} in the chosen type; norm weights
 * uniform in [0.8, 1.2] (around 1, not all ones) in F32; every row seeded from (seed, tensor, row), so a file is a
 * pure function of its arguments.
 */
public final class SyntheticGguf {
    public static final float WEIGHT_STD = 0.02f;
    private static final float UNIFORM_HALF_WIDTH = (float) (WEIGHT_STD * Math.sqrt(3));

    private SyntheticGguf() {
    }

    /** Writes the model with every matrix in {@code type}; returns the number of bytes of tensor data. */
    public static long write(Shapes s, GgmlType type, Path out, long seed) throws IOException {
        return write(s, new WeightMix.Uniform(type), out, seed);
    }

    /** One tensor of the file: a matrix ({@code type} quantized), a norm vector or the RoPE factors (F32). */
    private record Tensor(String name, GgmlType type, Kind kind, long... shape) {
        enum Kind { MATRIX, NORM, ROPE_FACTORS }

        int cols() {
            return (int) shape[0];
        }
    }

    /** The tensors in llama.cpp's order, each matrix in the type {@code mix} gives it. */
    private static List<Tensor> tensors(Shapes s, WeightMix mix) {
        int q = s.heads() * s.headDim(), kv = s.kvHeads() * s.headDim();
        List<Tensor> t = new ArrayList<>();
        t.add(matrix(mix, s, "token_embd.weight", -1, s.dim(), s.vocab()));
        if (s.ropeScalingFactor() > 0) t.add(new Tensor("rope_freqs.weight", GgmlType.F32, Tensor.Kind.ROPE_FACTORS, s.headDim() / 2));
        for (int l = 0; l < s.layers(); l++) {
            String b = "blk." + l + ".";
            t.add(new Tensor(b + "attn_norm.weight", GgmlType.F32, Tensor.Kind.NORM, s.dim()));
            t.add(matrix(mix, s, b + "attn_q.weight", l, s.dim(), q));
            t.add(matrix(mix, s, b + "attn_k.weight", l, s.dim(), kv));
            t.add(matrix(mix, s, b + "attn_v.weight", l, s.dim(), kv));
            t.add(matrix(mix, s, b + "attn_output.weight", l, q, s.dim()));
            t.add(new Tensor(b + "ffn_norm.weight", GgmlType.F32, Tensor.Kind.NORM, s.dim()));
            if (s.experts() > 0) {
                t.add(new Tensor(b + "ffn_gate_inp.weight", GgmlType.F32, Tensor.Kind.MATRIX, s.dim(), s.experts()));
                t.add(matrix(mix, s, b + "ffn_gate_exps.weight", l, s.dim(), s.ffn(), s.experts()));
                t.add(matrix(mix, s, b + "ffn_down_exps.weight", l, s.ffn(), s.dim(), s.experts()));
                t.add(matrix(mix, s, b + "ffn_up_exps.weight", l, s.dim(), s.ffn(), s.experts()));
            } else {
                t.add(matrix(mix, s, b + "ffn_gate.weight", l, s.dim(), s.ffn()));
                t.add(matrix(mix, s, b + "ffn_down.weight", l, s.ffn(), s.dim()));
                t.add(matrix(mix, s, b + "ffn_up.weight", l, s.dim(), s.ffn()));
            }
        }
        t.add(new Tensor("output_norm.weight", GgmlType.F32, Tensor.Kind.NORM, s.dim()));
        if (!s.tiedEmbeddings()) t.add(matrix(mix, s, "output.weight", -1, s.dim(), s.vocab()));
        return t;
    }

    private static Tensor matrix(WeightMix mix, Shapes s, String name, int layer, long... shape) {
        GgmlType type = mix.typeOf(name, layer, s);
        if (shape[0] % type.blockSize != 0) {
            throw new IllegalArgumentException("shape " + s.name() + ": row length " + shape[0] + " of " + name
                    + " is not a multiple of the " + type + " block size " + type.blockSize);
        }
        return new Tensor(name, type, Tensor.Kind.MATRIX, shape);
    }

    /** Writes the model and returns the number of bytes of tensor data. */
    public static long write(Shapes s, WeightMix mix, Path out, long seed) throws IOException {
        return write(s, mix, out, seed, null);
    }

    /**
     * As {@link #write(Shapes, WeightMix, Path, long)}, with the vocabulary (the {@code tokenizer.*} metadata) of
     * the GGUF {@code vocabFrom} instead of {@code no_vocab}, and the shape's vocabulary size set to its token
     * count: a model of a real shape that text goes in and out of (for benchmarks of the whole stack).
     */
    public static long write(Shapes s, WeightMix mix, Path out, long seed, Path vocabFrom) throws IOException {
        VocabKeys vocab = vocabFrom == null ? null : VocabKeys.read(vocabFrom);
        if (vocab != null) {
            s = new Shapes(s.name(), s.dim(), s.layers(), s.heads(), s.kvHeads(), s.ffn(), vocab.tokens.size(), s.context(),
                    s.ropeBase(), s.normEps(), s.experts(), s.expertsUsed(), s.slidingWindow(), s.tiedEmbeddings(), s.ropeScalingFactor());
        }
        List<Tensor> tensors = tensors(s, mix);
        long dataBytes = 0;
        try (GgufWriter w = new GgufWriter(out)) {
            w.putString("general.architecture", "llama")
                    .putString("general.type", "model")
                    .putString("general.name", "jllm synthetic " + s.name())
                    .putU32("general.file_type", mix.fileType())
                    .putU32("general.quantization_version", 2)
                    .putU32("llama.block_count", s.layers())
                    .putU32("llama.context_length", s.context())
                    .putU32("llama.embedding_length", s.dim())
                    .putU32("llama.feed_forward_length", s.ffn())
                    .putU32("llama.attention.head_count", s.heads())
                    .putU32("llama.attention.head_count_kv", s.kvHeads())
                    .putF32("llama.rope.freq_base", s.ropeBase())
                    .putF32("llama.attention.layer_norm_rms_epsilon", s.normEps())
                    .putU32("llama.attention.key_length", s.headDim())
                    .putU32("llama.attention.value_length", s.headDim())
                    .putU32("llama.vocab_size", s.vocab())
                    .putU32("llama.rope.dimension_count", s.headDim());
            if (s.experts() > 0) {
                w.putU32("llama.expert_count", s.experts()).putU32("llama.expert_used_count", s.expertsUsed());
            }
            if (s.slidingWindow() > 0) w.putU32("llama.attention.sliding_window", s.slidingWindow());
            if (vocab == null) {
                w.putString("tokenizer.ggml.model", "no_vocab");
            } else {
                vocab.writeTo(w);
            }

            for (Tensor t : tensors) w.addTensor(t.name(), t.type(), t.shape());
            w.writeHeader();

            for (Tensor t : tensors) {
                dataBytes += switch (t.kind()) {
                    case MATRIX -> matrix(w, t.name(), t.type(), t.cols(), seed);
                    case NORM -> norm(w, t.name(), t.cols(), seed);
                    case ROPE_FACTORS -> {
                        float[] f = llama3RopeFactors(s);
                        w.writeTensor(t.name(), f);
                        yield 4L * f.length;
                    }
                };
            }
        }
        return dataBytes;
    }

    /** Llama 3 RoPE frequency divisors as the converter computes them for {@code rope_freqs.weight}. */
    static float[] llama3RopeFactors(Shapes s) {
        double factor = s.ropeScalingFactor(), low = 1, high = 4;
        double original = s.name().startsWith("tiny") ? 64 : 8192;
        double lowWavelen = original / low, highWavelen = original / high;
        float[] f = new float[s.headDim() / 2];
        for (int i = 0; i < f.length; i++) {
            double freq = 1.0 / Math.pow(s.ropeBase(), 2.0 * i / s.headDim());
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) f[i] = 1f;
            else if (wavelen > lowWavelen) f[i] = (float) factor;
            else {
                double smooth = (original / wavelen - low) / (high - low);
                f[i] = (float) (1 / ((1 - smooth) / factor + smooth));
            }
        }
        return f;
    }

    private static long seedOf(long seed, String tensor, long row) {
        return seed * 0x9E3779B97F4A7C15L + tensor.hashCode() * 0xBF58476D1CE4E5B9L + row * 0x94D049BB133111EBL;
    }

    /** A matrix (or stack of matrices) of rows of {@code cols} random weights in {@code type}, rows generated in parallel. */
    private static long matrix(GgufWriter w, String name, GgmlType type, int cols, long seed) throws IOException {
        long rowBytes = type.bytesFor(cols);
        long[] bytes = {0};
        w.writeTensor(name, (first, count, dst) -> {
            MemorySegment seg = MemorySegment.ofBuffer(dst);
            MatOps.parallelFor(count, 8, (start, end) -> {
                float[] row = new float[cols]; // [cols]
                for (int r = start; r < end; r++) {
                    SplittableRandom rnd = new SplittableRandom(seedOf(seed, name, first + r));
                    for (int c = 0; c < cols; c++) row[c] = (float) (rnd.nextDouble() * 2 - 1) * UNIFORM_HALF_WIDTH;
                    Quantize.row(type, row, 0, cols, seg, r * rowBytes);
                }
            });
            dst.position(dst.limit());
            bytes[0] += count * rowBytes;
        });
        return bytes[0];
    }

    /** A norm weight vector: uniform in [0.8, 1.2]. */
    private static long norm(GgufWriter w, String name, int n, long seed) throws IOException {
        SplittableRandom rnd = new SplittableRandom(seedOf(seed, name, 0));
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = 0.8f + 0.4f * (float) rnd.nextDouble();
        w.writeTensor(name, v);
        return 4L * n;
    }

    /** The {@code tokenizer.*} keys of a GGUF that carry its vocabulary, read to be written again. */
    private record VocabKeys(String model, String pre, List<String> tokens, float[] scores, int[] types, List<String> merges,
                             java.util.Map<String, Long> ids, java.util.Map<String, Boolean> flags, String chatTemplate) {
        private static final List<String> ID_KEYS = List.of("tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id", "tokenizer.ggml.eot_token_id");
        private static final List<String> FLAG_KEYS = List.of("tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token",
                "tokenizer.ggml.add_space_prefix");

        static VocabKeys read(Path gguf) throws IOException {
            try (dev.jllm.gguf.GgufFile f = dev.jllm.gguf.GgufFile.open(gguf)) {
                if (!f.has("tokenizer.ggml.tokens")) throw new IllegalArgumentException(gguf + " has no vocabulary (tokenizer.ggml.tokens)");
                java.util.Map<String, Long> ids = new java.util.LinkedHashMap<>();
                for (String k : ID_KEYS) f.findLong(k).ifPresent(v -> ids.put(k, v));
                java.util.Map<String, Boolean> flags = new java.util.LinkedHashMap<>();
                for (String k : FLAG_KEYS) f.findBoolean(k).ifPresent(v -> flags.put(k, v));
                return new VocabKeys(f.getString("tokenizer.ggml.model"), f.findString("tokenizer.ggml.pre").orElse(null),
                        List.copyOf(f.getStringArray("tokenizer.ggml.tokens")), // the file's arrays are views of its mapping
                        f.has("tokenizer.ggml.scores") ? f.getFloatArray("tokenizer.ggml.scores") : null,
                        f.has("tokenizer.ggml.token_type") ? f.getIntArray("tokenizer.ggml.token_type") : null,
                        f.has("tokenizer.ggml.merges") ? List.copyOf(f.getStringArray("tokenizer.ggml.merges")) : null,
                        ids, flags, f.findString("tokenizer.chat_template").orElse(null));
            }
        }

        void writeTo(GgufWriter w) {
            w.putString("tokenizer.ggml.model", model);
            if (pre != null) w.putString("tokenizer.ggml.pre", pre);
            w.putStringArray("tokenizer.ggml.tokens", tokens);
            if (scores != null) w.putF32Array("tokenizer.ggml.scores", scores);
            if (types != null) w.putI32Array("tokenizer.ggml.token_type", types);
            if (merges != null) w.putStringArray("tokenizer.ggml.merges", merges);
            ids.forEach(w::putU32);
            flags.forEach(w::putBool);
            if (chatTemplate != null) w.putString("tokenizer.chat_template", chatTemplate);
        }
    }
}
