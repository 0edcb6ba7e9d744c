package dev.jllm.contracts;

import com.fasterxml.jackson.annotation.JsonValue;

/** Why generation ended, spelled as OpenAI spells it. */
public enum FinishReason {
    STOP("stop"), LENGTH("length"), CANCELLED("cancelled");

    private final String wire;

    FinishReason(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }
}
