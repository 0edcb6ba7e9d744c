package dev.jllm.gateway.messaging;

import dev.jllm.contracts.ReplicaStatsReported;
import dev.jllm.messaging.JsonDeserializer;

public class ReplicaStatsDeserializer extends JsonDeserializer<ReplicaStatsReported> {
    public ReplicaStatsDeserializer() {
        super(ReplicaStatsReported.class);
    }
}
