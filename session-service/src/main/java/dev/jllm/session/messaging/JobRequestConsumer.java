package dev.jllm.session.messaging;

import dev.jllm.contracts.JobCancelled;
import dev.jllm.contracts.JobCommand;
import dev.jllm.contracts.JobSubmitted;
import dev.jllm.session.service.JobService;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Jobs from Kafka-native clients ({@code job-requests}, consumer group {@code job-runner}, shared by the
 * replicas): stored (or cancelled) in the database, then acknowledged, so a crash in between means a
 * redelivery, which the store ignores. JDBC blocks: a worker thread, in partition order.
 */
@ApplicationScoped
public class JobRequestConsumer {
    @Inject JobService jobs;

    @Incoming("job-requests")
    @Blocking(ordered = true)
    public void onCommand(JobCommand command) {
        if (command == null) return; // undeserializable: dead-lettered by the failure handler
        switch (command) {
            case JobSubmitted s -> jobs.submitFromKafka(s);
            case JobCancelled c -> jobs.cancel(c.jobId(), null);
        }
    }
}
