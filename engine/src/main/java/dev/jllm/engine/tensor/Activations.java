package dev.jllm.engine.tensor;

/**
 * The inputs of one matrix product, {@code n} vectors of {@code cols} floats, in the form a kernel consumes.
 * Built once per {@link MatOps#matvec}/{@link MatOps#matmul} call by {@link WeightMatrix#prepare} and then
 * shared read-only by all threads: float kernels read {@link #x} directly; quantized kernels read the 8-bit
 * blocks made once here (as llama.cpp quantizes activations to Q8_0 / Q8_K before its integer dot products).
 *
 * <p>Quantized form ({@link #q} non-null): {@code q[i * cols + c]} is the signed 8-bit value (held exactly in a
 * float, so vector kernels multiply-add it without conversions; products and block sums stay exact integers),
 * {@code qd[i * cols / blockSize + b]} the scale of block {@code b}, {@code qsum[i * cols / 32 + s]} the sum of the
 * 8-bit values of each 32-wide sub-block (what Q8_K's bsums give llama.cpp for the K-quant minimum terms), and
 * {@code qx[i * cols + c]} the 8-bit value times its block scale (what the tiled batched kernels multiply, see
 * {@link #tileInputs}).
 */
public final class Activations {
    /** Blocks of 32 below which quantization stays on the calling thread (a decode step's vectors). */
    private static final int PARALLEL_MIN_BLOCKS = 2048;
    /** [n][cols] at {@link #offset}. */
    public final float[] x;
    public final int offset;
    public final int n;
    public final int cols;

    /** Activation block size of the quantized form (32 for Q8_0, 256 for Q8_K), 0 when not quantized. */
    public final int blockSize;
    /** [n * cols] 8-bit values as floats, or null. */
    public final float[] q;
    /** [n * cols / blockSize] block scales, or null. */
    public final float[] qd;
    /** [n * cols / 32] sums of q over each 32-wide sub-block, or null. */
    public final float[] qsum;
    /** [n * cols] q as 16-bit integers (the kernels' integer products), or null. */
    public final short[] qs;
    /** [n * cols] q times its block scale (batches only: null for a single input), or null. */
    public final float[] qx;

    private Activations(float[] x, int offset, int n, int cols, int blockSize, float[] q, float[] qd, float[] qsum, short[] qs, float[] qx) {
        this.x = x;
        this.offset = offset;
        this.n = n;
        this.cols = cols;
        this.blockSize = blockSize;
        this.q = q;
        this.qd = qd;
        this.qsum = qsum;
        this.qs = qs;
        this.qx = qx;
    }

    /**
     * The inputs as F32, [n][cols] from {@link #tileInputsOffset}: the dequantized 8-bit values when quantized (so a
     * batch computes what the single-input integer kernels compute, up to F32 rounding), else {@link #x}.
     */
    public float[] tileInputs() {
        if (q != null && qx == null) {
            throw new IllegalStateException("quantized activations of " + n + " input(s) have no tile form (made from "
                    + TiledMatrix.TILED_MIN_INPUTS + " inputs on)");
        }
        return qx != null ? qx : x;
    }

    /**
     * Whether {@code n} inputs take the tiled path and so need {@link #qx}: a single input (a decode step) does not
     * allocate it (0.9 of the 3.9 MB a 1B-shape decode step allocated).
     */
    private static boolean tiled(int n) {
        return n >= TiledMatrix.TILED_MIN_INPUTS;
    }

    public int tileInputsOffset() {
        return qx != null ? 0 : offset;
    }

    /** Plain float activations: {@code x[offset + i * cols + c]}. */
    public static Activations floats(float[] x, int offset, int n, int cols) {
        check(x, offset, n, cols);
        return new Activations(x, offset, n, cols, 0, null, null, null, null, null);
    }

    /**
     * Quantizes to Q8_0 blocks as ggml's x86 {@code quantize_row_q8_0} does: per 32 values
     * {@code q = round_half_even(x * 127 / amax)}, scale {@code d = amax / 127} stored as FP16 (so the dot product
     * uses the FP16-rounded scale like llama.cpp does).
     */
    public static Activations q8_0(float[] x, int offset, int n, int cols) {
        check(x, offset, n, cols);
        requireMultiple(cols, 32, "Q8_0 activations");
        float[] q = new float[n * cols];     // [n * cols]
        float[] qd = new float[n * cols / 32]; // [n * cols / 32]
        float[] qsum = new float[n * cols / 32];
        short[] qs = new short[n * cols];    // [n * cols]
        float[] qx = tiled(n) ? new float[n * cols] : null; // [n * cols]
        // blocks are independent: large batches (prefill) quantize on the pool
        MatOps.parallelFor(n * cols / 32, PARALLEL_MIN_BLOCKS, (from, to) -> {
            for (int b = from; b < to; b++) {
                int src = offset + b * 32;
                float amax = 0f;
                for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[src + j]));
                float d = amax / 127f;
                float id = amax != 0f ? 127f / amax : 0f;
                int sum = 0;
                for (int j = 0; j < 32; j++) {
                    int v = nearestInt(x[src + j] * id);
                    q[b * 32 + j] = v;
                    qs[b * 32 + j] = (short) v;
                    sum += v;
                }
                float dRounded = Float.float16ToFloat(Float.floatToFloat16(d));
                if (qx != null) {
                    for (int j = 0; j < 32; j++) qx[b * 32 + j] = q[b * 32 + j] * dRounded; // exact: 8 x 11 bits
                }
                qd[b] = dRounded;
                qsum[b] = sum;
            }
        });
        return new Activations(x, offset, n, cols, 32, q, qd, qsum, qs, qx);
    }

    /**
     * Quantizes to Q8_K blocks as ggml's {@code quantize_row_q8_K_ref}: per 256 values the signed value of
     * largest magnitude {@code max} gives {@code iscale = -127 / max}, {@code q = min(127, round(iscale * x))},
     * {@code d = 1 / iscale} kept as F32.
     */
    public static Activations q8_K(float[] x, int offset, int n, int cols) {
        check(x, offset, n, cols);
        requireMultiple(cols, 256, "Q8_K activations");
        float[] q = new float[n * cols];        // [n * cols]
        float[] qd = new float[n * cols / 256]; // [n * cols / 256]
        float[] qsum = new float[n * cols / 32]; // [n * cols / 32]
        short[] qs = new short[n * cols];        // [n * cols]
        float[] qx = tiled(n) ? new float[n * cols] : null; // [n * cols]
        MatOps.parallelFor(n * cols / 256, PARALLEL_MIN_BLOCKS / 8, (from, to) -> {
            for (int b = from; b < to; b++) {
                int src = offset + b * 256;
                float amax = 0f, max = 0f;
                for (int j = 0; j < 256; j++) {
                    float ax = Math.abs(x[src + j]);
                    if (ax > amax) {
                        amax = ax;
                        max = x[src + j];
                    }
                }
                if (amax == 0f) {
                    qd[b] = 0f;
                    continue; // q and qsum stay 0
                }
                float iscale = -127f / max;
                for (int j = 0; j < 256; j++) {
                    int v = Math.min(127, nearestInt(iscale * x[src + j]));
                    q[b * 256 + j] = v;
                    qs[b * 256 + j] = (short) v;
                    qsum[(b * 256 + j) / 32] += v;
                }
                qd[b] = 1f / iscale;
                if (qx != null) {
                    for (int j = 0; j < 256; j++) qx[b * 256 + j] = q[b * 256 + j] * qd[b];
                }
            }
        });
        return new Activations(x, offset, n, cols, 256, q, qd, qsum, qs, qx);
    }

    /** Round half to even, as ggml's {@code nearest_int} (the 1.5 * 2^23 trick) does. */
    static int nearestInt(float v) {
        return (int) Math.rint(v);
    }

    static void requireMultiple(int cols, int block, String what) {
        if (cols % block != 0) {
            throw new IllegalArgumentException(what + " need a multiple of " + block + " columns, got " + cols);
        }
    }

    private static void check(float[] x, int offset, int n, int cols) {
        if (n < 1 || cols < 1 || offset < 0 || (long) offset + (long) n * cols > x.length) {
            throw new IllegalArgumentException("activations [" + n + " x " + cols + "] at offset " + offset
                    + " do not fit in an array of " + x.length);
        }
    }
}
