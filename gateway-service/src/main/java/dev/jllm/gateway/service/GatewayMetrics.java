package dev.jllm.gateway.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The gateway's Prometheus metrics (Micrometer's own registry: the Quarkus extension does not resolve on
 * this project's Maven mirror). Exposed at {@code GET /metrics}.
 */
@ApplicationScoped
public class GatewayMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Timer ttft;
    private final Timer interToken;
    private final Timer endToEnd;
    private final Counter tokens;
    private final DistributionSummary promptTokens;
    private final ConcurrentHashMap<String, Counter> outcomes = new ConcurrentHashMap<>();

    @Inject
    public GatewayMetrics(InFlightRequests inFlight, ReplicaStatsBoard replicas) {
        Duration[] slo = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
                Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
                Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30)};
        ttft = Timer.builder("jllm_time_to_first_token").description("Request accepted to first token sent")
                .serviceLevelObjectives(slo).register(registry);
        interToken = Timer.builder("jllm_inter_token_latency").description("Between two tokens of one stream")
                .serviceLevelObjectives(Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10),
                        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofSeconds(1))
                .register(registry);
        endToEnd = Timer.builder("jllm_request_latency").description("Request accepted to last byte sent")
                .serviceLevelObjectives(slo).register(registry);
        tokens = Counter.builder("jllm_generated_tokens").description("Completion tokens sent to clients").register(registry);
        promptTokens = DistributionSummary.builder("jllm_prompt_tokens").description("Prompt tokens per request").register(registry);
        Gauge.builder("jllm_requests_in_flight", inFlight, InFlightRequests::size)
                .description("Requests waiting for or receiving tokens at this gateway").register(registry);
        // from the inference replicas' periodic reports (topic replica-stats)
        Gauge.builder("jllm_queue_depth", replicas, ReplicaStatsBoard::queued)
                .description("Requests waiting for admission, over all inference replicas").register(registry);
        Gauge.builder("jllm_running_sequences", replicas, ReplicaStatsBoard::running)
                .description("Sequences in the running batches, over all inference replicas").register(registry);
        Gauge.builder("jllm_kv_cache_bytes", replicas, ReplicaStatsBoard::kvBytes)
                .description("KV-cache bytes reserved by running sequences").baseUnit("bytes").register(registry);
        Gauge.builder("jllm_session_cache_bytes", replicas, ReplicaStatsBoard::sessionBytes)
                .description("KV-cache bytes kept for idle sessions").baseUnit("bytes").register(registry);
        Gauge.builder("jllm_inference_replicas", replicas, ReplicaStatsBoard::replicas)
                .description("Inference replicas that reported in the last 10 s").register(registry);
    }

    public void firstToken(long nanos) {
        ttft.record(Duration.ofNanos(nanos));
    }

    public void interToken(long nanos) {
        interToken.record(Duration.ofNanos(nanos));
    }

    public void finished(String outcome, long nanos, int completionTokens, int prompt) {
        endToEnd.record(Duration.ofNanos(nanos));
        tokens.increment(completionTokens);
        if (prompt > 0) promptTokens.record(prompt);
        outcome(outcome);
    }

    /** Counts a request by outcome ("stop", "length", "cancelled", "error_400", "error_429", ...). */
    public void outcome(String outcome) {
        outcomes.computeIfAbsent(outcome, o -> Counter.builder("jllm_requests").tag("outcome", o)
                .description("Requests by outcome").register(registry)).increment();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public String scrape() {
        return registry.scrape();
    }
}
