package dev.jllm.contracts;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/**
 * A client asked for a job: its items run through the pipeline at batch priority. Written by Kafka-native
 * clients (jobs posted over HTTP reach session-service directly and are stored the same way). Submitting the
 * same job id twice is harmless: the first one is kept.
 *
 * @param jobId    1 to 64 characters of {@code [A-Za-z0-9._:-]}, not "." or ".."; also the record's key
 * @param owner    who may read it over HTTP: the SHA-256 (hex) of the API key, or null/empty for "no key"
 * @param items    the requests, in order (results keep their index)
 * @param metadata free-form JSON echoed in the job object, or null
 */
public record JobSubmitted(String jobId, String owner, List<JobItem> items, JsonNode metadata) implements JobCommand {}
