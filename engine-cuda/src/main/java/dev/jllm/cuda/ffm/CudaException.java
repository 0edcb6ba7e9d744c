package dev.jllm.cuda.ffm;

/** A CUDA driver call returned an error: names the call, the error ({@code CUDA_ERROR_...}) and its code. */
public final class CudaException extends RuntimeException {
    private final String call;
    private final int code;
    private final String errorName;

    public CudaException(String call, int code, String errorName, String context) {
        super(call + " failed: " + errorName + " (" + code + ")" + (context == null || context.isEmpty() ? "" : " [" + context + "]"));
        this.call = call;
        this.code = code;
        this.errorName = errorName;
    }

    /** The driver call, as exported (e.g. {@code cuMemAlloc_v2}). */
    public String call() {
        return call;
    }

    /** The {@code CUresult} value. */
    public int code() {
        return code;
    }

    /** The {@code CUresult} name, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String errorName() {
        return errorName;
    }
}
