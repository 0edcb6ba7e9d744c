package dev.jllm.tokenizer.chat;

import java.util.Objects;

/** One chat turn: role ("system", "user", "assistant", "tool", ...) and its text. */
public record ChatMessage(String role, String content) {
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }
}
