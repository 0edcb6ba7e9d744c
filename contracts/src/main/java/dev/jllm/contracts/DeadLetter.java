package dev.jllm.contracts;

/** A record no consumer could use, parked with the reason instead of stalling its partition. */
public record DeadLetter(String topic, int partition, long offset, String key, String value, String reason, String service) {}
