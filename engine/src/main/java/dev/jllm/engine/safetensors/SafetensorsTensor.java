package dev.jllm.engine.safetensors;

import dev.jllm.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of a safetensors file: a view over the mapped bytes, never a copy.
 *
 * @param name  the tensor's name in the header
 * @param dtype safetensors dtype string ("F32", "BF16", ...)
 * @param shape dimensions, outermost first (PyTorch order: a {@code [out, in]} Linear weight is {@code out} rows
 *              of {@code in} contiguous values)
 * @param data  exactly the tensor's bytes, little-endian
 * @param file  the file it lives in (for error messages)
 */
public record SafetensorsTensor(String name, String dtype, long[] shape, MemorySegment data, Path file) {
    public SafetensorsTensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i];
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** The engine type of this tensor's elements: F32, F16 or BF16; anything else is an error naming the tensor. */
    public GgmlType type() {
        return switch (dtype) {
            case "F32" -> GgmlType.F32;
            case "F16" -> GgmlType.F16;
            case "BF16" -> GgmlType.BF16;
            default -> throw new IllegalArgumentException("tensor '" + name + "' in " + file + " has dtype " + dtype
                    + ", the engine reads F32, F16 and BF16 weights");
        };
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
