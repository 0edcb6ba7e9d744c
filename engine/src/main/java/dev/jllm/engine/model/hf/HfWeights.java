package dev.jllm.engine.model.hf;

import dev.jllm.engine.safetensors.SafetensorsModel;
import dev.jllm.engine.safetensors.SafetensorsTensor;
import dev.jllm.engine.tensor.WeightMatrices;
import dev.jllm.engine.tensor.WeightMatrix;
import dev.jllm.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Typed, shape-checked access to the tensors of a HF checkpoint: matrices as {@link WeightMatrix} views over the
 * mapped bytes (no copy), vectors as {@code float[]}, and the few tensors HF stores input-major (Llama 4's stacked
 * experts) transposed once into {@code scratch} memory. Every error names the tensor.
 */
final class HfWeights {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Output rows transposed per tile (bounded heap scratch: TILE x in elements). */
    private static final int TILE = 64;

    private final SafetensorsModel model;
    private final String prefix;
    private final Arena scratch;
    private final boolean reference;
    private long bytes;
    private final java.util.Set<String> used = new java.util.HashSet<>();

    HfWeights(SafetensorsModel model, Arena scratch, boolean referenceKernels) {
        this.model = model;
        this.prefix = HfTensorNames.prefixFor(model.tensors().keySet());
        this.scratch = scratch;
        this.reference = referenceKernels;
    }

    boolean has(String name) {
        return model.has(prefix + name);
    }

    SafetensorsTensor tensor(String name) {
        used.add(prefix + name);
        return model.tensor(prefix + name);
    }

    /** Marks a tensor as deliberately unused (a tied checkpoint's duplicate output matrix). */
    void ignore(String name) {
        used.add(prefix + name);
    }

    /**
     * Tensors of the language model that no block asked for (a bias, a norm this architecture does not have): a
     * checkpoint the blocks would silently run wrong. Rotary caches and, in multimodal checkpoints, the tensors
     * outside the language model are not weights of ours and are left out.
     */
    java.util.List<String> unused() {
        return model.tensors().keySet().stream()
                .filter(n -> n.startsWith(prefix) && !used.contains(n) && !n.endsWith("rotary_emb.inv_freq"))
                .sorted()
                .toList();
    }

    /** Bytes of the matrices handed out so far. */
    long bytes() {
        return bytes;
    }

    /** A {@code [rows, cols]} matrix (PyTorch Linear layout: {@code rows} outputs of {@code cols} inputs). */
    WeightMatrix matrix(String name, int rows, int cols) {
        SafetensorsTensor t = tensor(name);
        expectShape(t, rows, cols);
        return wrap(t.type(), t.data(), rows, cols);
    }

    private WeightMatrix wrap(GgmlType type, MemorySegment data, int rows, int cols) {
        bytes += data.byteSize();
        return reference ? WeightMatrices.reference(type, data, rows, cols) : WeightMatrices.of(type, data, rows, cols);
    }

    /** A 1-D tensor of {@code n} values as floats. */
    float[] vector(String name, int n) {
        SafetensorsTensor t = tensor(name);
        expectShape(t, n);
        float[] out = new float[n];
        MemorySegment d = t.data();
        switch (t.type()) {
            case F32 -> MemorySegment.copy(d, F32, 0, out, 0, n);
            case F16 -> {
                for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(d.getAtIndex(U16, i));
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat((d.getAtIndex(U16, i) & 0xffff) << 16);
            }
            default -> throw new IllegalStateException("unreachable: " + t.type());
        }
        return out;
    }

    /**
     * From a stacked input-major tensor {@code [nExperts, in, totalOut]}, the matrix of expert {@code e} over output
     * columns {@code [colFrom, colFrom + rows)}, transposed into engine layout {@code [rows, in]}.
     */
    WeightMatrix expertTransposed(String name, int nExperts, int in, int totalOut, int e, int colFrom, int rows) {
        SafetensorsTensor t = tensor(name);
        expectShape(t, nExperts, in, totalOut);
        GgmlType type = t.type();
        long es = type == GgmlType.F32 ? 4 : 2;
        MemorySegment src = t.data().asSlice((long) e * in * totalOut * es, (long) in * totalOut * es);
        MemorySegment dst = scratch.allocate((long) rows * in * es, 64);
        // tiles of TILE output rows: read each input row's slice in bulk, scatter into a heap tile, write it back
        int tileRows = Math.min(rows, TILE);
        byte[] slice = new byte[(int) (tileRows * es)];     // [tileRows] elements of one input row
        byte[] tile = new byte[(int) (tileRows * in * es)]; // [tileRows][in] transposed
        int e0 = (int) es;
        for (int r0 = 0; r0 < rows; r0 += tileRows) {
            int nr = Math.min(tileRows, rows - r0);
            for (int c = 0; c < in; c++) {
                MemorySegment.copy(src, ValueLayout.JAVA_BYTE, ((long) c * totalOut + colFrom + r0) * es, slice, 0, nr * e0);
                for (int r = 0; r < nr; r++) System.arraycopy(slice, r * e0, tile, (r * in + c) * e0, e0);
            }
            MemorySegment.copy(tile, 0, dst, ValueLayout.JAVA_BYTE, (long) r0 * in * es, nr * in * e0);
        }
        return wrap(type, dst, rows, in);
    }

    static void expectShape(SafetensorsTensor t, long... shape) {
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' in " + t.file() + " has shape "
                    + Arrays.toString(t.shape()) + ", the config needs " + Arrays.toString(shape));
        }
    }

    private static void expectShape(SafetensorsTensor t, int... shape) {
        long[] l = new long[shape.length];
        for (int i = 0; i < shape.length; i++) l[i] = shape[i];
        expectShape(t, l);
    }
}
