package dev.jllm.contracts;

/** Interactive requests are admitted before batch (async job) work. */
public enum Priority { INTERACTIVE, BATCH }
