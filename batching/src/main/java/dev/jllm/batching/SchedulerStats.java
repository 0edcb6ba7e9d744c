package dev.jllm.batching;

/** A snapshot of the scheduler for metrics and health. */
public record SchedulerStats(int queued, int running, long kvBytesReserved, long steps, long tokensGenerated, long cancelled) {}
