package dev.jllm.batching;

/**
 * A snapshot of the scheduler for metrics and health.
 *
 * @param cancelled    sequences stopped by a cancel
 * @param cancelsReceived cancel commands received (also those for requests that had already finished)
 * @param sessions     idle sessions whose KV cache is kept hot
 * @param sessionBytes bytes those caches hold
 */
public record SchedulerStats(int queued, int running, long kvBytesReserved, long steps, long tokensGenerated, long cancelled, long cancelsReceived,
                             int sessions, long sessionBytes) {}
