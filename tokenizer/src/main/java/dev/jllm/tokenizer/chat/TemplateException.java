package dev.jllm.tokenizer.chat;

import dev.jllm.tokenizer.TokenizerException;

/** A chat template failed: a syntax error, a {@code raise_exception(...)} from the template, or a limit hit. */
public class TemplateException extends TokenizerException {
    public TemplateException(String message) {
        super(message);
    }
}
