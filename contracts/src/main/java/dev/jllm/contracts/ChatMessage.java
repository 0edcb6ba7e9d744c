package dev.jllm.contracts;

/** One chat turn as the OpenAI API names it: role ("system", "user", "assistant", "tool") and text. */
public record ChatMessage(String role, String content) {}
