package dev.jllm.session.messaging;

import dev.jllm.contracts.GenerationEvent;
import dev.jllm.session.service.JobRunnerService;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.common.annotation.NonBlocking;
import io.smallrye.reactive.messaging.kafka.KafkaConsumerRebalanceListener;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.reactive.messaging.Incoming;

import java.util.Collection;

/**
 * Generation events for job items: every partition of {@code job-generation-events} (where inference-service and
 * tokenizer-service send the events addressed to {@code jobs}) in a consumer group of this replica's own (like a
 * gateway instance), from the end; they go to the runner.
 * Non-blocking: the runner thread does the work.
 */
@ApplicationScoped
public class JobEventsConsumer {
    @Inject JobRunnerService runner;

    @Incoming("job-generation-events")
    @NonBlocking
    public void onEvent(GenerationEvent event) {
        if (event != null) runner.offer(event);
    }

    /** The runner starts submitting only once this consumer holds its partitions (else it could miss first tokens). */
    @ApplicationScoped
    @Identifier("job-generation-events-rebalance")
    public static class Listener implements KafkaConsumerRebalanceListener {
        @Inject JobRunnerService runner;

        @Override
        public void onPartitionsAssigned(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) return;
            for (TopicPartition tp : partitions) consumer.position(tp); // resolve "latest" now
            runner.eventsAssigned();
        }
    }
}
