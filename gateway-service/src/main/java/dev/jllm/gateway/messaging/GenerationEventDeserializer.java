package dev.jllm.gateway.messaging;

import dev.jllm.contracts.GenerationEvent;
import dev.jllm.contracts.Json;
import io.quarkus.kafka.client.serialization.ObjectMapperDeserializer;

public class GenerationEventDeserializer extends ObjectMapperDeserializer<GenerationEvent> {
    public GenerationEventDeserializer() {
        super(GenerationEvent.class, Json.mapper());
    }
}
