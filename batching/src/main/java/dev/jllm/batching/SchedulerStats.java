package dev.jllm.batching;

/**
 * A snapshot of the scheduler for metrics and health.
 *
 * @param sessions     idle sessions whose KV cache is kept hot
 * @param sessionBytes bytes those caches hold
 */
public record SchedulerStats(int queued, int running, long kvBytesReserved, long steps, long tokensGenerated, long cancelled,
                             int sessions, long sessionBytes) {}
