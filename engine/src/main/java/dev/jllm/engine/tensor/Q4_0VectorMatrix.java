package dev.jllm.engine.tensor;

import dev.jllm.gguf.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.jllm.engine.tensor.FloatVectors.B;
import static dev.jllm.engine.tensor.FloatVectors.F;
import static dev.jllm.engine.tensor.FloatVectors.L;
import static dev.jllm.engine.tensor.FloatVectors.LE;
import static dev.jllm.engine.tensor.FloatVectors.S;

/**
 * Q4_0 weights . Q8_0 activations: per 32-block the low nibbles of the 16 bytes are weights 0..15, the high nibbles
 * weights 16..31, each minus 8; sum(qw * qx) times dw * dx (llama.cpp's ggml_vec_dot_q4_0_q8_0). The nibbles are
 * taken apart, moved to -8..7 and multiplied in 16-bit lanes (products and their sums in pairs are exact there).
 * The block scale comes through {@link FloatVectors#F16_TO_F32} (measured ~10% faster here than
 * {@code Float.float16ToFloat}, which C2 compiles to a GP-to-vector move and a conversion on the loop's critical
 * path), as ggml's own {@code ggml_table_f32_f16} does.
 */
final class Q4_0VectorMatrix extends VectorQuantMatrix {

    Q4_0VectorMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q4_0, data, rows, cols);
    }

    @Override
    float dot(long rowOffset, Activations a, int i) {
        short[] q = a.qs;
        float[] qd = a.qd;
        int q0 = i * cols, d0 = q0 / 32;
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < cols / 32; k++) {
            long b = rowOffset + 18L * k;
            int qk = q0 + 32 * k;
            FloatVector scale = FloatVector.broadcast(F, FloatVectors.F16_TO_F32[data.get(I16_LE, b) & 0xFFFF] * qd[d0 + k]);
            for (int j = 0; j < 16; j += L) {
                ShortVector packed = FloatVectors.bytesToShorts(ByteVector.fromMemorySegment(B, data, b + 2 + j, LE));
                ShortVector p = packed.and((short) 0xF).sub((short) 8).mul(ShortVector.fromArray(S, q, qk + j))
                        .add(packed.lanewise(VectorOperators.LSHR, 4).and((short) 0xF).sub((short) 8)
                                .mul(ShortVector.fromArray(S, q, qk + 16 + j)));
                acc = FloatVectors.shortsToF32(p).fma(scale, acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** w = d * (nibble - 8): low nibbles are weights 0..15 of the block, high nibbles 16..31. */
    @Override
    void decodeRow(long rowOffset, float[] dst, int dstOffset) {
        for (int k = 0; k < cols / 32; k++) {
            long b = rowOffset + 18L * k;
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(data.get(I16_LE, b)));
            int o = dstOffset + 32 * k;
            for (int j = 0; j < 16; j += L) {
                IntVector packed = FloatVectors.bytesToInts(ByteVector.fromMemorySegment(B, data, b + 2 + j, LE));
                ((FloatVector) packed.and(0xF).sub(8).convert(VectorOperators.I2F, 0)).mul(d).intoArray(dst, o + j);
                ((FloatVector) packed.lanewise(VectorOperators.ASHR, 4).and(0xF).sub(8).convert(VectorOperators.I2F, 0)).mul(d)
                        .intoArray(dst, o + 16 + j);
            }
        }
    }
}
