package dev.jllm.cuda.ffm;

/** The C type of one kernel parameter, as {@code cuLaunchKernel} must find it in memory. */
public enum ParamKind {
    /** A device pointer ({@code T*}, {@code CUdeviceptr}): 8 bytes. */
    PTR(8),
    /** {@code int}: 4 bytes. */
    I32(4),
    /** {@code long long} / {@code size_t}: 8 bytes. */
    I64(8),
    /** {@code float}: 4 bytes. */
    F32(4);

    /** Size of the value in bytes (also its alignment). */
    public final int bytes;

    ParamKind(int bytes) {
        this.bytes = bytes;
    }
}
