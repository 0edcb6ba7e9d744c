package dev.jllm.contracts;

/** The client went away or asked to stop: the sequence leaves the batch within one step. */
public record GenerationCancelled(String requestId, String conversationKey, String reason) implements InferenceCommand {}
