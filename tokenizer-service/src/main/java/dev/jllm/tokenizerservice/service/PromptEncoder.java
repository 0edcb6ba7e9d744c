package dev.jllm.tokenizerservice.service;

import dev.jllm.contracts.CompletionRequested;
import dev.jllm.contracts.PromptTokenized;
import dev.jllm.contracts.SamplingParams;
import dev.jllm.tokenizer.Tokenizer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * A request, validated, rendered through the chat template and encoded: exactly the ids the model was trained
 * on. Checks what needs the tokenizer: empty prompts, roles the template rejects, and the token budget
 * (prompt + max_tokens within the context).
 */
@ApplicationScoped
public class PromptEncoder {

    @Inject ModelTokenizer model;
    @Inject ChatRenderer chat;
    @Inject SessionConversations conversations;

    public PromptTokenized encode(CompletionRequested r) {
        Tokenizer t = model.tokenizer();
        int[] ids;
        if (r.isChat()) {
            // a session's turn may carry only its new messages: render the conversation it continues
            var messages = r.sessionId() == null ? r.messages() : conversations.continued(r.sessionId(), r.messages());
            String prompt = chat.render(messages, true);
            // the template writes BOS itself where the model wants it: only special tokens are parsed
            ids = t.encode(prompt, false, true);
        } else {
            if (r.prompt() == null || r.prompt().isEmpty()) throw new RequestRejected(400, "The prompt is empty.", "prompt", null);
            ids = t.encode(r.prompt(), true, false);
        }
        if (ids.length == 0) throw new RequestRejected(400, "The prompt has no tokens.", r.isChat() ? "messages" : "prompt", null);
        int ctx = model.contextLength();
        int max = r.params().maxTokens();
        if (ids.length >= ctx || (long) ids.length + max > ctx) {
            throw new RequestRejected(400, "This model's maximum context length is " + ctx + " tokens. However, you requested "
                    + ((long) ids.length + max) + " tokens (" + ids.length + " in the " + (r.isChat() ? "messages" : "prompt")
                    + ", " + max + " in the completion). Please reduce the length of the messages or completion.",
                    r.isChat() ? "messages" : "prompt", "context_length_exceeded");
        }
        SamplingParams p = r.params();
        if (max == 0) { // "as much as fits"
            p = new SamplingParams(p.temperature(), p.topP(), p.topK(), p.minP(), p.presencePenalty(), p.frequencyPenalty(),
                    p.repetitionPenalty(), p.seed(), ctx - ids.length, p.topLogprobs(), p.logprobs());
        }
        return new PromptTokenized(r.requestId(), r.gatewayId(), r.conversationKey(), r.sessionId(), r.model(), ids, p,
                r.stop(), r.priority(), r.createdAtMillis());
    }
}
