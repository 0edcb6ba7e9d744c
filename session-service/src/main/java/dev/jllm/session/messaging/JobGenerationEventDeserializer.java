package dev.jllm.session.messaging;

import dev.jllm.contracts.GenerationEvent;
import dev.jllm.messaging.JsonDeserializer;

public class JobGenerationEventDeserializer extends JsonDeserializer<GenerationEvent> {
    public JobGenerationEventDeserializer() {
        super(GenerationEvent.class);
    }
}
