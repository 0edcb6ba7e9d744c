package dev.jllm.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteOrder;

/** Species and lane conversions shared by the Vector API kernels (all sized to {@code L} lanes of F32). */
final class FloatVectors {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** F32 lanes per vector. */
    static final int L = F.length();
    // the species constants of the API itself (not VectorSpecies.of): C2 then knows every vector's exact class
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final VectorSpecies<Short> S = L >= 16 ? ShortVector.SPECIES_256 : L == 8 ? ShortVector.SPECIES_128 : ShortVector.SPECIES_64;
    /** L bytes (64 bits for 8 lanes is the smallest shape the API has). */
    static final VectorSpecies<Byte> B = L >= 16 ? ByteVector.SPECIES_128 : ByteVector.SPECIES_64;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /**
     * IEEE half to single for every 16-bit pattern ({@code F16_TO_F32[h & 0xFFFF]}, 256 KB): the per-block scale of
     * the 32-blocks kernels, where a table load is cheaper than the scalar conversion (as ggml's
     * {@code ggml_table_f32_f16}).
     */
    static final float[] F16_TO_F32 = new float[1 << 16];

    static {
        for (int h = 0; h < F16_TO_F32.length; h++) F16_TO_F32[h] = Float.float16ToFloat((short) h);
    }

    private FloatVectors() {
    }

    /** IEEE half to single: shift exponent+mantissa into place and rescale by 2^112 (exact for normals and subnormals). */
    static FloatVector f16ToF32(ShortVector h) {
        IntVector bits = (IntVector) h.castShape(I, 0);
        IntVector em = bits.and(0x7FFF);
        IntVector sign = bits.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        IntVector shifted = em.lanewise(VectorOperators.LSHL, 13);
        FloatVector f = shifted.reinterpretAsFloats().mul(0x1p112f);
        VectorMask<Integer> infNan = em.compare(VectorOperators.GE, 0x7C00);
        IntVector magnitude = f.reinterpretAsInts().blend(shifted.or(0x7F800000), infNan);
        return magnitude.or(sign).reinterpretAsFloats();
    }

    /** BF16 is the high half of an F32. */
    static FloatVector bf16ToF32(ShortVector h) {
        return ((IntVector) h.castShape(I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** Bytes to int lanes (sign-extended): bit fiddling on packed nibbles is done in int lanes, which x86 shifts natively. */
    static IntVector bytesToInts(ByteVector b) {
        return (IntVector) b.castShape(I, 0);
    }

    /** Signed bytes to 16-bit lanes (where products of two 8-bit values are exact). */
    static ShortVector bytesToShorts(ByteVector b) {
        return (ShortVector) b.castShape(S, 0);
    }

    /** Signed 16-bit lanes to int lanes. */
    static IntVector shortsToInts(ShortVector s) {
        return (IntVector) s.castShape(I, 0);
    }

    /** Signed 16-bit lanes to F32 lanes. */
    static FloatVector shortsToF32(ShortVector s) {
        return (FloatVector) s.castShape(F, 0);
    }

    /** Signed bytes to F32 lanes. */
    static FloatVector bytesToF32(ByteVector b) {
        return (FloatVector) b.castShape(F, 0);
    }
}
