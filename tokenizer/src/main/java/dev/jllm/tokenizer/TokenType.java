package dev.jllm.tokenizer;

/** Token types as GGUF stores them in {@code tokenizer.ggml.token_type} (llama.cpp's numbering). */
public enum TokenType {
    UNDEFINED, NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE;

    public static TokenType fromGguf(int code) {
        TokenType[] all = values();
        if (code < 0 || code >= all.length) {
            throw new TokenizerException("tokenizer.ggml.token_type: unknown token type code " + code);
        }
        return all[code];
    }

    /** Control and unknown tokens print only when the caller asks for special tokens. */
    public boolean isSpecial() {
        return this == CONTROL || this == UNKNOWN;
    }
}
