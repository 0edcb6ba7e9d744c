package dev.jllm.session.messaging;

import dev.jllm.contracts.JobCommand;
import dev.jllm.messaging.JsonDeserializer;

public class JobCommandDeserializer extends JsonDeserializer<JobCommand> {
    public JobCommandDeserializer() {
        super(JobCommand.class);
    }
}
