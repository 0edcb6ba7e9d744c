package dev.jllm.openai;

import dev.jllm.contracts.CompletionRequested;

/**
 * A validated OpenAI request: what goes to Kafka, plus how the client wants the answer.
 *
 * @param chat         /v1/chat/completions (else /v1/completions)
 * @param stream       answer as SSE chunks
 * @param includeUsage send the usage chunk before [DONE] ({@code stream_options.include_usage})
 * @param echo         legacy completions: prepend the prompt to the text
 */
public record ParsedRequest(CompletionRequested request, boolean chat, boolean stream, boolean includeUsage, boolean echo) {}
