package dev.jllm.session.service;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jllm.contracts.FinishReason;
import dev.jllm.contracts.TokenGenerated;
import dev.jllm.contracts.TokenLogprob;
import dev.jllm.contracts.Usage;
import dev.jllm.openai.OpenAiFormat;
import dev.jllm.openai.ParsedRequest;

import java.util.ArrayList;
import java.util.List;

/**
 * The token events of one attempt of one job item, put together as the gateway does for a non-streaming
 * request: text deltas in {@code index} order, a repeated index dropped (a redelivery), a skipped one
 * reported (an event was lost: the attempt must be retried), and on the last event the OpenAI response
 * object, field for field what the direct request returns.
 */
final class ItemAccumulator {
    enum Outcome { PROGRESS, DUPLICATE, GAP, DONE }

    private final ParsedRequest req;
    private final StringBuilder text = new StringBuilder();
    private final List<TokenLogprob> logprobs;
    private int nextIndex;
    private FinishReason finish;
    private Usage usage;

    ItemAccumulator(ParsedRequest req) {
        this.req = req;
        this.logprobs = req.request().params().logprobs() ? new ArrayList<>() : null;
        if (req.echo() && req.request().prompt() != null) text.append(req.request().prompt());
    }

    Outcome accept(TokenGenerated t) {
        if (finish != null || t.index() < nextIndex) return Outcome.DUPLICATE;
        if (t.index() > nextIndex) return Outcome.GAP;
        nextIndex++;
        if (t.text() != null) text.append(t.text());
        if (logprobs != null && t.logprob() != null) logprobs.add(t.logprob());
        if (!t.isLast()) return Outcome.PROGRESS;
        finish = t.finishReason();
        usage = t.usage() != null ? t.usage() : new Usage(0, nextIndex, 0);
        return Outcome.DONE;
    }

    /** Events taken so far. */
    int received() {
        return nextIndex;
    }

    /** The response object once {@link Outcome#DONE}; {@code id} names it (the item, not the attempt). */
    ObjectNode response(String id, long createdSeconds) {
        if (finish == null) throw new IllegalStateException("the item has not finished");
        return new OpenAiFormat(id, req.request().model(), createdSeconds, req.chat(), false)
                .complete(text.toString(), logprobs, finish, usage);
    }
}
