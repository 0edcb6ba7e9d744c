package dev.jllm.messaging;

import dev.jllm.contracts.Json;
import io.quarkus.kafka.client.serialization.ObjectMapperDeserializer;

/** Reads a contract record with the contracts' own JSON mapping; subclass per consumed type (Kafka instantiates by class name). */
public abstract class JsonDeserializer<T> extends ObjectMapperDeserializer<T> {
    protected JsonDeserializer(Class<T> type) {
        super(type, Json.mapper());
    }
}
