package dev.jllm.gguf;

/**
 * A GGUF file that cannot be read as asked: bad magic, unsupported version, truncation, unknown tensor
 * type, inconsistent tensor shape, or a metadata key / tensor that is missing or of the wrong type.
 * The message always names the file and the key or tensor concerned.
 */
public final class GgufException extends RuntimeException {
    public GgufException(String message) {
        super(message);
    }

    public GgufException(String message, Throwable cause) {
        super(message, cause);
    }
}
