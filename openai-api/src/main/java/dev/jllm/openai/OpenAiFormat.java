package dev.jllm.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jllm.contracts.FinishReason;
import dev.jllm.contracts.TokenLogprob;
import dev.jllm.contracts.Usage;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** The OpenAI response objects, field for field: chunks for streams, whole objects otherwise. */
public final class OpenAiFormat {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    public static final String FINGERPRINT = "jllm";

    private final String id;
    private final String model;
    private final long created;
    private final boolean chat;
    private final boolean includeUsage;

    public OpenAiFormat(String id, String model, long createdSeconds, boolean chat, boolean includeUsage) {
        this.id = id;
        this.model = model;
        this.created = createdSeconds;
        this.chat = chat;
        this.includeUsage = includeUsage;
    }

    private ObjectNode head(String object) {
        ObjectNode o = F.objectNode();
        o.put("id", id);
        o.put("object", object);
        o.put("created", created);
        o.put("model", model);
        o.put("system_fingerprint", FINGERPRINT);
        return o;
    }

    /** A streaming chunk carrying the role (first), a text delta, and/or the finish reason. */
    public ObjectNode chunk(boolean withRole, String text, TokenLogprob logprob, FinishReason finish) {
        ObjectNode o = head(chat ? "chat.completion.chunk" : "text_completion");
        ArrayNode choices = o.putArray("choices");
        ObjectNode c = choices.addObject();
        c.put("index", 0);
        if (chat) {
            ObjectNode delta = c.putObject("delta");
            if (withRole) delta.put("role", "assistant");
            if (text != null) delta.put("content", text);
            if (logprob != null) c.set("logprobs", chatLogprobs(List.of(logprob)));
            else c.putNull("logprobs");
        } else {
            c.put("text", text == null ? "" : text);
            if (logprob != null) c.set("logprobs", legacyLogprobs(List.of(logprob), 0));
            else c.putNull("logprobs");
        }
        if (finish == null) c.putNull("finish_reason"); else c.put("finish_reason", finish.wire());
        if (includeUsage) o.putNull("usage");
        return o;
    }

    /** The last chunk before [DONE] when {@code stream_options.include_usage} is set: no choices, the usage. */
    public ObjectNode usageChunk(Usage usage) {
        ObjectNode o = head(chat ? "chat.completion.chunk" : "text_completion");
        o.putArray("choices");
        o.set("usage", usage(usage));
        return o;
    }

    /** The whole non-streaming answer. */
    public ObjectNode complete(String text, List<TokenLogprob> logprobs, FinishReason finish, Usage usage) {
        ObjectNode o = head(chat ? "chat.completion" : "text_completion");
        ObjectNode c = o.putArray("choices").addObject();
        c.put("index", 0);
        if (chat) {
            ObjectNode m = c.putObject("message");
            m.put("role", "assistant");
            m.put("content", text);
            m.putNull("refusal");
            if (logprobs != null) c.set("logprobs", chatLogprobs(logprobs)); else c.putNull("logprobs");
        } else {
            c.put("text", text);
            if (logprobs != null) c.set("logprobs", legacyLogprobs(logprobs, 0)); else c.putNull("logprobs");
        }
        c.put("finish_reason", finish.wire());
        o.set("usage", usage(usage));
        return o;
    }

    public static ObjectNode usage(Usage u) {
        ObjectNode n = F.objectNode();
        n.put("prompt_tokens", u.promptTokens());
        n.put("completion_tokens", u.completionTokens());
        n.put("total_tokens", u.promptTokens() + u.completionTokens());
        n.putObject("prompt_tokens_details").put("cached_tokens", u.cachedTokens());
        return n;
    }

    private static ObjectNode chatLogprobs(List<TokenLogprob> lps) {
        ObjectNode n = F.objectNode();
        ArrayNode content = n.putArray("content");
        for (TokenLogprob lp : lps) {
            ObjectNode e = content.addObject();
            e.put("token", lp.token());
            e.put("logprob", lp.logprob());
            e.set("bytes", bytes(lp.token()));
            ArrayNode top = e.putArray("top_logprobs");
            if (lp.top() != null) {
                for (TokenLogprob.Alternative a : lp.top()) {
                    ObjectNode t = top.addObject();
                    t.put("token", a.token());
                    t.put("logprob", a.logprob());
                    t.set("bytes", bytes(a.token()));
                }
            }
        }
        n.putNull("refusal");
        return n;
    }

    private static ObjectNode legacyLogprobs(List<TokenLogprob> lps, int textOffset) {
        ObjectNode n = F.objectNode();
        ArrayNode tokens = n.putArray("tokens");
        ArrayNode values = n.putArray("token_logprobs");
        ArrayNode tops = n.putArray("top_logprobs");
        ArrayNode offsets = n.putArray("text_offset");
        int offset = textOffset;
        for (TokenLogprob lp : lps) {
            tokens.add(lp.token());
            values.add(lp.logprob());
            ObjectNode top = tops.addObject();
            if (lp.top() != null) for (TokenLogprob.Alternative a : lp.top()) top.put(a.token(), a.logprob());
            offsets.add(offset);
            offset += lp.token().length();
        }
        return n;
    }

    private static ArrayNode bytes(String token) {
        ArrayNode a = F.arrayNode();
        for (byte b : token.getBytes(StandardCharsets.UTF_8)) a.add(b & 0xff);
        return a;
    }
}
