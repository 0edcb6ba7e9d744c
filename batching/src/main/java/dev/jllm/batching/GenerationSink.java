package dev.jllm.batching;

import dev.jllm.contracts.GenerationEvent;

/** Where the scheduler's events go (Kafka in the service, a list in tests). Must not block. */
public interface GenerationSink {
    void emit(GenerationEvent event);
}
