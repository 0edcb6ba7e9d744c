package dev.jllm.gateway.service;

import dev.jllm.contracts.GenerationEvent;

/** Receives the generation events of one request. Called on the Kafka consumer thread: hop before blocking or writing. */
public interface GenerationListener {
    void onEvent(GenerationEvent event);
}
