package dev.jllm.contracts;

/** Stop a job: its unfinished items are cancelled (running ones leave the batch), finished results stay. */
public record JobCancelled(String jobId, String reason) implements JobCommand {}
