package dev.jllm.tokenizerservice.messaging;

import dev.jllm.contracts.CompletionRequested;
import dev.jllm.messaging.JsonDeserializer;

public class CompletionRequestDeserializer extends JsonDeserializer<CompletionRequested> {
    public CompletionRequestDeserializer() {
        super(CompletionRequested.class);
    }
}
