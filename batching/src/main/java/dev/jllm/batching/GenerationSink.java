package dev.jllm.batching;

import dev.jllm.contracts.GenerationEvent;

/**
 * Where the scheduler's events go (Kafka in the service, a list in tests). Must not block.
 *
 * <p>A request leaves the scheduler in one of three ways: with its final event (a {@code TokenGenerated} with a
 * finish reason, or a {@code RequestFailed}); with {@link #dropped} (nothing more will be sent for it); or, when the
 * scheduler shuts down while it waits or runs, with neither: then it was not served, and a redelivery of its command
 * (at-least-once) should serve it elsewhere.
 */
public interface GenerationSink {
    void emit(GenerationEvent event);

    /**
     * The scheduler is done with a request that ends without an event of its own: a redelivered duplicate of a
     * request it already has or had, or a request cancelled before it ran.
     */
    default void dropped(String requestId) {
    }
}
