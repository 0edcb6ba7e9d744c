package dev.jllm.contracts;

/** Token counts of one request; {@code cachedTokens} were reused from a session's KV cache. */
public record Usage(int promptTokens, int completionTokens, int cachedTokens) {}
