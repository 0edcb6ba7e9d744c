package dev.jllm.inference.messaging;

import dev.jllm.contracts.InferenceCommand;
import dev.jllm.messaging.JsonDeserializer;

public class InferenceCommandDeserializer extends JsonDeserializer<InferenceCommand> {
    public InferenceCommandDeserializer() {
        super(InferenceCommand.class);
    }
}
