package dev.jllm.engine.model;

import dev.jllm.engine.LoadOptions;
import dev.jllm.engine.llama.Layer;
import dev.jllm.engine.llama.Rope;
import dev.jllm.engine.llama.SelfAttention;
import dev.jllm.engine.llama.SparseMoeFfn;
import dev.jllm.engine.llama.SwiGluFfn;
import dev.jllm.engine.llama.Transformer;
import dev.jllm.engine.tensor.WeightMatrices;
import dev.jllm.engine.tensor.WeightMatrix;
import dev.jllm.gguf.GgmlType;
import dev.jllm.gguf.GgufException;
import dev.jllm.gguf.GgufFile;
import dev.jllm.gguf.TensorInfo;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import static dev.jllm.engine.model.GgufTensorNames.Layer.*;

/**
 * Builds a {@link Transformer} over a memory-mapped GGUF file: every weight matrix is a view of the mapping
 * (nothing copied but the small norm vectors), every tensor's shape checked against the config first.
 */
public final class GgufModelLoader {
    private final GgufFile file;
    private final ModelConfig config;
    private final LoadOptions options;
    private long weightBytes;

    private GgufModelLoader(GgufFile file, ModelConfig config, LoadOptions options) {
        this.file = file;
        this.config = config;
        this.options = options;
    }

    /** The config the file describes, with {@code options}' overrides applied. */
    public static ModelConfig config(GgufFile f, LoadOptions options) {
        ModelConfig c = GgufConfig.read(f);
        if (options.slidingWindow() != null) c = c.withSlidingWindow(options.slidingWindow());
        if (options.contextLength() > 0) c = c.withContextLength(options.contextLength());
        return c;
    }

    public static Transformer load(Path path, LoadOptions options) throws IOException {
        GgufFile f = GgufFile.open(path);
        try {
            return load(f, options);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /** Loads from an open file; the returned model closes it. */
    public static Transformer load(GgufFile f, LoadOptions options) {
        ModelConfig c = config(f, options);
        return new GgufModelLoader(f, c, options).build();
    }

    /** Default prefill chunk: the window for sliding-window models, else 512. */
    public static int defaultPrefillChunk(ModelConfig c, LoadOptions o) {
        if (o.prefillChunk() > 0) return o.prefillChunk();
        return c.slidingWindow() > 0 ? c.slidingWindow() : 512;
    }

    private Transformer build() {
        ModelConfig c = config;
        Rope rope = new Rope(c.rope());
        WeightMatrix embedding = matrix(GgufTensorNames.TOKEN_EMBD, c.vocabSize(), c.dim());
        List<Layer> layers = new ArrayList<>();
        for (int l = 0; l < c.nLayers(); l++) {
            LayerSpec spec = c.layer(l);
            SelfAttention attention = new SelfAttention(c, spec, rope,
                    matrix(WQ.of(l), c.qDim(), c.dim()),
                    matrix(WK.of(l), c.kvDim(), c.dim()),
                    matrix(WV.of(l), c.kvDim(), c.dim()),
                    matrix(WO.of(l), c.dim(), c.qDim()));
            var ffn = switch (spec.ffn()) {
                case DENSE -> new SwiGluFfn(
                        matrix(W1.of(l), c.ffnDim(), c.dim()),
                        matrix(W2.of(l), c.dim(), c.ffnDim()),
                        matrix(W3.of(l), c.ffnDim(), c.dim()));
                case MOE -> moe(l);
                case MOE_SHARED -> throw new GgufException(file.path() + ": Llama 4 MoE layers are not supported in GGUF files");
            };
            layers.add(new Layer(vector(ATTN_NORM.of(l), c.dim()), attention, vector(FFN_NORM.of(l), c.dim()), ffn));
        }
        float[] outputNorm = vector(GgufTensorNames.OUTPUT_NORM, c.dim());
        WeightMatrix output = c.tiedEmbeddings() ? embedding : matrix(GgufTensorNames.OUTPUT, c.vocabSize(), c.dim());
        long perToken = weightBytes - file.tensor(GgufTensorNames.TOKEN_EMBD).byteSize() / c.vocabSize()
                * (c.vocabSize() - 1) + (c.tiedEmbeddings() ? file.tensor(GgufTensorNames.TOKEN_EMBD).byteSize() : 0);
        return new Transformer(c, embedding, layers, outputNorm, output, defaultPrefillChunk(c, options), perToken, file);
    }

    private SparseMoeFfn moe(int l) {
        ModelConfig c = config;
        int e = c.nExperts(), hidden = c.expertFfnDim();
        WeightMatrix router = matrix(ROUTER.of(l), e, c.dim());
        WeightMatrix[] w1, w2, w3;
        if (file.findTensor(W1_EXPERTS.of(l)).isPresent()) {
            w1 = experts(W1_EXPERTS.of(l), e, hidden, c.dim());
            w2 = experts(W2_EXPERTS.of(l), e, c.dim(), hidden);
            w3 = experts(W3_EXPERTS.of(l), e, hidden, c.dim());
        } else { // older files: one 2-D tensor per expert
            w1 = new WeightMatrix[e];
            w2 = new WeightMatrix[e];
            w3 = new WeightMatrix[e];
            for (int i = 0; i < e; i++) {
                w1[i] = matrix(GgufTensorNames.expert(W1, l, i), hidden, c.dim());
                w2[i] = matrix(GgufTensorNames.expert(W2, l, i), c.dim(), hidden);
                w3[i] = matrix(GgufTensorNames.expert(W3, l, i), hidden, c.dim());
            }
        }
        // a token reads only its experts: count nExpertsUsed of them in the bytes per token
        long expertBytes = 0;
        for (WeightMatrix[] ws : List.of(w1, w2, w3)) for (WeightMatrix w : ws) expertBytes += w.type().bytesFor((long) w.rows() * w.cols());
        weightBytes -= expertBytes - expertBytes / e * c.nExpertsUsed();
        SwiGluFfn[] ex = new SwiGluFfn[e];
        for (int i = 0; i < e; i++) ex[i] = new SwiGluFfn(w1[i], w2[i], w3[i]);
        return new SparseMoeFfn(router, ex, c.nExpertsUsed());
    }

    private WeightMatrix matrix(String name, int rows, int cols) {
        TensorInfo t = file.tensor(name);
        expectShape(t, cols, rows);
        weightBytes += t.byteSize();
        return view(t, file.data(t), rows, cols);
    }

    private WeightMatrix[] experts(String name, int n, int rows, int cols) {
        TensorInfo t = file.tensor(name);
        expectShape(t, cols, rows, n);
        weightBytes += t.byteSize();
        MemorySegment all = file.data(t);
        long each = t.byteSize() / n;
        WeightMatrix[] out = new WeightMatrix[n];
        for (int e = 0; e < n; e++) out[e] = view(t, all.asSlice(e * each, each), rows, cols);
        return out;
    }

    private WeightMatrix view(TensorInfo t, MemorySegment data, int rows, int cols) {
        try {
            return options.referenceKernels() ? WeightMatrices.reference(t.type(), data, rows, cols)
                    : WeightMatrices.of(t.type(), data, rows, cols);
        } catch (IllegalArgumentException e) {
            throw new GgufException(file.path() + ": tensor '" + t.name() + "': " + e.getMessage(), e);
        }
    }

    private float[] vector(String name, int n) {
        TensorInfo t = file.tensor(name);
        expectShape(t, n);
        weightBytes += t.byteSize();
        return floats(file, t);
    }

    private void expectShape(TensorInfo t, long... ne) {
        long[] s = t.shape();
        // trailing 1s are equivalent (some writers store [n, 1])
        int rank = s.length;
        while (rank > ne.length && s[rank - 1] == 1) rank--;
        if (!Arrays.equals(Arrays.copyOf(s, rank), ne)) {
            throw new GgufException(file.path() + ": tensor '" + t.name() + "' has shape " + Arrays.toString(s)
                    + ", the config (" + config.architecture() + ", dim " + config.dim() + ") needs " + Arrays.toString(ne));
        }
    }

    /** A 1-D F32/F16/BF16 tensor as floats. */
    static float[] floats(GgufFile f, TensorInfo t) {
        if (t.type() != GgmlType.F32 && t.type() != GgmlType.F16 && t.type() != GgmlType.BF16) {
            throw new GgufException(f.path() + ": tensor '" + t.name() + "' should be F32/F16/BF16, is " + t.type());
        }
        int n = (int) t.elementCount();
        float[] out = new float[n];
        WeightMatrices.reference(t.type(), f.data(t), 1, n).row(0, out, 0);
        return out;
    }
}
