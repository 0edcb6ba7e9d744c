package dev.jllm.tokenizer;

/** Bad tokenizer data or an unsupported tokenizer configuration; the message names the field. */
public class TokenizerException extends RuntimeException {
    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
