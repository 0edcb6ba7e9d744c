package dev.jllm.gateway.messaging;

import dev.jllm.contracts.GenerationEvent;
import dev.jllm.messaging.JsonDeserializer;

public class GenerationEventDeserializer extends JsonDeserializer<GenerationEvent> {
    public GenerationEventDeserializer() {
        super(GenerationEvent.class);
    }
}
