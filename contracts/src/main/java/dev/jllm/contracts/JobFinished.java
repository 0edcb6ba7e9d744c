package dev.jllm.contracts;

/**
 * A job ended: the last record of a job on {@link Topics#JOB_RESULTS}.
 *
 * @param status    {@code completed} (every item finished; some may have failed), {@code cancelled}, or
 *                  {@code failed} (the job itself was refused, see {@code message})
 * @param completed items that produced a response
 * @param failed    items that ended with an error
 * @param message   why a job failed, else null
 */
public record JobFinished(String jobId, String status, int total, int completed, int failed, String message) implements JobEvent {}
