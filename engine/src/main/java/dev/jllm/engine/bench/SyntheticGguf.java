package dev.jllm.engine.bench;

import dev.jllm.engine.tensor.MatOps;
import dev.jllm.engine.tensor.Quantize;
import dev.jllm.gguf.GgmlType;
import dev.jllm.gguf.GgufWriter;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
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

    /** llama.cpp's {@code general.file_type} (LLAMA_FTYPE_*) for a file whose matrices are all {@code type}. */
    static int fileType(GgmlType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            case Q4_K -> 14; // MOSTLY_Q4_K_S (all matrices Q4_K)
            case Q6_K -> 18;
            case BF16 -> 32;
            default -> throw new IllegalArgumentException("synthetic models support F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K; got " + type);
        };
    }

    /** Writes the model and returns the number of bytes of tensor data. */
    public static long write(Shapes s, GgmlType type, Path out, long seed) throws IOException {
        fileType(type);
        int q = s.heads() * s.headDim(), kv = s.kvHeads() * s.headDim();
        for (int len : new int[]{s.dim(), q, s.ffn()}) {
            if (len % type.blockSize != 0) {
                throw new IllegalArgumentException("shape " + s.name() + ": row length " + len + " is not a multiple of the "
                        + type + " block size " + type.blockSize);
            }
        }
        long dataBytes = 0;
        try (GgufWriter w = new GgufWriter(out)) {
            w.putString("general.architecture", "llama")
                    .putString("general.type", "model")
                    .putString("general.name", "jllm synthetic " + s.name())
                    .putU32("general.file_type", fileType(type))
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
            w.putString("tokenizer.ggml.model", "no_vocab");

            // tensor table, in llama.cpp's order
            w.addTensor("token_embd.weight", type, s.dim(), s.vocab());
            float[] ropeFactors = s.ropeScalingFactor() > 0 ? llama3RopeFactors(s) : null;
            if (ropeFactors != null) w.addTensor("rope_freqs.weight", GgmlType.F32, ropeFactors.length);
            for (int l = 0; l < s.layers(); l++) {
                String b = "blk." + l + ".";
                w.addTensor(b + "attn_norm.weight", GgmlType.F32, s.dim());
                w.addTensor(b + "attn_q.weight", type, s.dim(), q);
                w.addTensor(b + "attn_k.weight", type, s.dim(), kv);
                w.addTensor(b + "attn_v.weight", type, s.dim(), kv);
                w.addTensor(b + "attn_output.weight", type, q, s.dim());
                w.addTensor(b + "ffn_norm.weight", GgmlType.F32, s.dim());
                if (s.experts() > 0) {
                    w.addTensor(b + "ffn_gate_inp.weight", GgmlType.F32, s.dim(), s.experts());
                    w.addTensor(b + "ffn_gate_exps.weight", type, s.dim(), s.ffn(), s.experts());
                    w.addTensor(b + "ffn_down_exps.weight", type, s.ffn(), s.dim(), s.experts());
                    w.addTensor(b + "ffn_up_exps.weight", type, s.dim(), s.ffn(), s.experts());
                } else {
                    w.addTensor(b + "ffn_gate.weight", type, s.dim(), s.ffn());
                    w.addTensor(b + "ffn_down.weight", type, s.ffn(), s.dim());
                    w.addTensor(b + "ffn_up.weight", type, s.dim(), s.ffn());
                }
            }
            w.addTensor("output_norm.weight", GgmlType.F32, s.dim());
            if (!s.tiedEmbeddings()) w.addTensor("output.weight", type, s.dim(), s.vocab());
            w.writeHeader();

            // data, same order
            dataBytes += matrix(w, "token_embd.weight", type, s.dim(), seed);
            if (ropeFactors != null) w.writeTensor("rope_freqs.weight", ropeFactors);
            for (int l = 0; l < s.layers(); l++) {
                String b = "blk." + l + ".";
                dataBytes += norm(w, b + "attn_norm.weight", s.dim(), seed);
                dataBytes += matrix(w, b + "attn_q.weight", type, s.dim(), seed);
                dataBytes += matrix(w, b + "attn_k.weight", type, s.dim(), seed);
                dataBytes += matrix(w, b + "attn_v.weight", type, s.dim(), seed);
                dataBytes += matrix(w, b + "attn_output.weight", type, q, seed);
                dataBytes += norm(w, b + "ffn_norm.weight", s.dim(), seed);
                if (s.experts() > 0) {
                    dataBytes += matrix(w, b + "ffn_gate_inp.weight", GgmlType.F32, s.dim(), seed);
                    dataBytes += matrix(w, b + "ffn_gate_exps.weight", type, s.dim(), seed);
                    dataBytes += matrix(w, b + "ffn_down_exps.weight", type, s.ffn(), seed);
                    dataBytes += matrix(w, b + "ffn_up_exps.weight", type, s.dim(), seed);
                } else {
                    dataBytes += matrix(w, b + "ffn_gate.weight", type, s.dim(), seed);
                    dataBytes += matrix(w, b + "ffn_down.weight", type, s.ffn(), seed);
                    dataBytes += matrix(w, b + "ffn_up.weight", type, s.dim(), seed);
                }
            }
            dataBytes += norm(w, "output_norm.weight", s.dim(), seed);
            if (!s.tiedEmbeddings()) dataBytes += matrix(w, "output.weight", type, s.dim(), seed);
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
}
