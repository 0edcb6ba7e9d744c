package dev.jllm.gguf;

/**
 * Tensor element types as numbered by the GGUF format (ggml's {@code ggml_type}).
 * A quantized type stores {@code blockSize} weights in {@code blockBytes} bytes.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q8_1(9, 32, 36),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    Q8_K(15, 256, 292),
    BF16(30, 1, 2);

    /** The id GGUF stores for this type. */
    public final int id;
    /** Weights per block. */
    public final int blockSize;
    /** Bytes per block. */
    public final int blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** Bytes taken by {@code n} consecutive weights; {@code n} must be a multiple of {@link #blockSize}. */
    public long bytesFor(long n) {
        if (n % blockSize != 0) {
            throw new IllegalArgumentException(this + " needs a multiple of " + blockSize + " elements, got " + n);
        }
        return n / blockSize * blockBytes;
    }

    /** The type with GGUF id {@code id}, or an exception naming the id. */
    public static GgmlType fromId(int id) {
        for (GgmlType t : values()) {
            if (t.id == id) return t;
        }
        throw new IllegalArgumentException("unknown GGML tensor type id " + id);
    }
}
