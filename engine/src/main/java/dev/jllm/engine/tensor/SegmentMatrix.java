package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Base of the weight matrices that read their bytes in place from a {@link MemorySegment} (usually a memory
 * mapped GGUF file): {@code rows} rows of {@code cols} weights, each row {@link #rowBytes} long, rows back to back.
 * Checks the shape against the segment once, so kernels never run off its end.
 */
abstract class SegmentMatrix implements WeightMatrix {
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final MemorySegment data;
    final int rows;
    final int cols;
    final GgmlType type;
    /** Bytes per row. */
    final long rowBytes;

    SegmentMatrix(GgmlType type, MemorySegment data, int rows, int cols) {
        if (rows < 1 || cols < 1) {
            throw new IllegalArgumentException(type + " matrix needs positive rows and cols, got " + rows + " x " + cols);
        }
        if (cols % type.blockSize != 0) {
            throw new IllegalArgumentException(type + " matrix [" + rows + " x " + cols + "]: cols must be a multiple of the "
                    + type + " block size " + type.blockSize);
        }
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = type.bytesFor(cols);
        long need = rowBytes * rows;
        if (data.byteSize() < need) {
            throw new IllegalArgumentException(type + " matrix [" + rows + " x " + cols + "] needs " + need
                    + " bytes, the data holds " + data.byteSize());
        }
        this.data = sameClass(data.asSlice(0, need));
    }

    /**
     * The native segment over the same memory, scope and lifetime: memory-mapped weights (a GGUF file) and native
     * buffers (transposed HF weights, tests, benchmarks) are different segment classes, and once the Vector API loads in
     * a kernel have seen both, C2 compiles them polymorphic and the kernel runs ~3x slower (measured: Q8_0 single-input
     * dot 16.9 vs 5.5 GB/s per core). Heap segments stay as they are.
     */
    private static MemorySegment sameClass(MemorySegment s) {
        return s.isNative() ? s.reinterpret(s.byteSize()) : s;
    }

    @Override
    public final int rows() {
        return rows;
    }

    @Override
    public final int cols() {
        return cols;
    }

    @Override
    public final GgmlType type() {
        return type;
    }

    @Override
    public void matvec(float[] x, int xOffset, float[] out, int outOffset, int rowStart, int rowEnd) {
        matmul(prepare(x, xOffset, 1), out, outOffset, rowStart, rowEnd);
    }

    @Override
    public void matmul(Activations a, float[] out, int outOffset, int rowStart, int rowEnd) {
        checkRows(rowStart, rowEnd);
        for (int r = rowStart; r < rowEnd; r++) {
            long rowOffset = r * rowBytes;
            for (int i = 0; i < a.n; i++) {
                out[outOffset + i * rows + r] = dot(rowOffset, a, i);
            }
        }
    }

    /** Dot product of the row at byte offset {@code rowOffset} with input vector {@code i} of {@code a}. */
    abstract float dot(long rowOffset, Activations a, int i);

    final void checkRows(int rowStart, int rowEnd) {
        if (rowStart < 0 || rowEnd > rows || rowStart > rowEnd) {
            throw new IndexOutOfBoundsException("rows [" + rowStart + ", " + rowEnd + ") of a " + type + " matrix with " + rows + " rows");
        }
    }

    final void checkRow(int r) {
        if (r < 0 || r >= rows) throw new IndexOutOfBoundsException("row " + r + " of a " + type + " matrix with " + rows + " rows");
    }

    static float f16(MemorySegment s, long offset) {
        return Float.float16ToFloat(s.get(I16_LE, offset));
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + rows + " x " + cols + "]";
    }
}
