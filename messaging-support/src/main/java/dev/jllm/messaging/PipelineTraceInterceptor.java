package dev.jllm.messaging;

import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;

import java.util.Map;

/**
 * The Kafka client's own view of each hop for {@link PipelineTrace}: {@code sent:<topic>} when the producer's
 * {@code send} is entered (on whichever thread calls it), {@code polled:<topic>} when the consumer's {@code poll}
 * returns the record (on the polling thread, before the messaging layer hands it on; a {@link DirectConsumer}
 * reads raw bytes and marks {@code polled:<topic>} itself once it has read the value, still on the polling
 * thread and before the handler). So a hop splits into
 * client-to-client time (the broker) and the services' own hand-offs. Only records on a request's path to its
 * first token are marked (requests, tokenized prompts, the first token or an error). Installed for every channel
 * with {@code kafka.interceptor.classes}; does nothing unless tracing is on.
 */
public class PipelineTraceInterceptor implements ProducerInterceptor<Object, Object>, ConsumerInterceptor<Object, Object> {

    @Override
    public ProducerRecord<Object, Object> onSend(ProducerRecord<Object, Object> record) {
        if (PipelineTrace.enabled()) PipelineTrace.mark(PipelineTrace.onPath(record.value()), "sent:" + record.topic());
        return record;
    }

    @Override
    public ConsumerRecords<Object, Object> onConsume(ConsumerRecords<Object, Object> records) {
        if (PipelineTrace.enabled()) {
            for (ConsumerRecord<Object, Object> r : records) PipelineTrace.mark(PipelineTrace.onPath(r.value()), "polled:" + r.topic());
        }
        return records;
    }

    @Override public void onAcknowledgement(RecordMetadata metadata, Exception exception) {}
    @Override public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {}
    @Override public void configure(Map<String, ?> configs) {}
    @Override public void close() {}
}
