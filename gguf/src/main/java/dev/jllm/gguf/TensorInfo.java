package dev.jllm.gguf;

import java.util.Arrays;

/**
 * One tensor of a GGUF file.
 *
 * @param name     the tensor's name in the file (e.g. {@code blk.0.attn_q.weight})
 * @param type     element type
 * @param shape    dimensions, {@code ne[0]} first (the contiguous one; for a weight matrix: its columns)
 * @param offset   byte offset of the data from the start of the file's data section
 * @param byteSize bytes the data takes
 */
public record TensorInfo(String name, GgmlType type, long[] shape, long offset, long byteSize) {
    public TensorInfo {
        shape = shape.clone();
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** {@code shape[i]} (a copy of the shape is available through {@link #shape()}). */
    public long dim(int i) {
        return shape[i];
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements. */
    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && type == t.type && Arrays.equals(shape, t.shape)
                && offset == t.offset && byteSize == t.byteSize;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape) + " @" + offset + " (" + byteSize + " bytes)";
    }
}
