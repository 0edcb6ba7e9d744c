package dev.jllm.openai;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jllm.contracts.ChatMessage;
import dev.jllm.contracts.CompletionRequested;
import dev.jllm.contracts.Priority;
import dev.jllm.contracts.SamplingParams;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Turns an OpenAI request body into a {@link ParsedRequest}, or an {@link ApiError} that names the offending
 * parameter, as OpenAI does. Unknown fields are ignored. Semantic checks that need the model's tokenizer
 * (roles its template accepts, context length) happen in tokenizer-service.
 */
public final class RequestParser {
    /** OpenAI accepts at most 4 stop sequences. */
    static final int MAX_STOP = 4;
    static final int MAX_TOP_LOGPROBS = 20;
    private static final Set<String> ROLES_WITH_TEXT = Set.of("system", "developer", "user", "assistant", "tool");

    private final ObjectMapper mapper;
    private final List<String> models;

    /** @param models the model names requests may name; null accepts any (the pipeline serves what it loaded) */
    public RequestParser(ObjectMapper mapper, List<String> models) {
        this.mapper = mapper;
        this.models = models;
    }

    public ParsedRequest parse(byte[] body, boolean chat, String gatewayId, String sessionHeader, long nowMillis) {
        JsonNode root;
        try {
            root = mapper.readTree(body);
        } catch (JacksonException e) {
            throw ApiError.invalid("We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                    + "using your HTTP library correctly. The OpenAI API expects a JSON payload.) Detail: " + e.getOriginalMessage(), null);
        } catch (java.io.IOException e) {
            throw ApiError.invalid("could not read the request body", null);
        }
        return parse(root, chat, gatewayId, sessionHeader, nowMillis);
    }

    /** The same on a body already read as JSON (a job item's {@code body}). */
    public ParsedRequest parse(JsonNode root, boolean chat, String gatewayId, String sessionHeader, long nowMillis) {
        if (root == null || !root.isObject()) throw ApiError.invalid("The request body must be a JSON object.", null);

        String model = requiredString(root, "model");
        if (models != null && !models.contains(model)) {
            throw new ApiError(404, "invalid_request_error", "The model `" + model + "` does not exist or you do not have access to it.",
                    "model", "model_not_found");
        }
        int n = optInt(root, "n", 1, 1, Integer.MAX_VALUE);
        if (n != 1) throw ApiError.invalid("Only n=1 is supported by this server; got n=" + n + ".", "n");

        List<ChatMessage> messages = null;
        String prompt = null;
        if (chat) {
            messages = messages(root.get("messages"));
        } else {
            prompt = prompt(root.get("prompt"));
        }

        Integer maxTokens = null;
        if (has(root, "max_completion_tokens")) maxTokens = optInt(root, "max_completion_tokens", 0, 1, Integer.MAX_VALUE);
        else if (has(root, "max_tokens")) maxTokens = optInt(root, "max_tokens", 0, 1, Integer.MAX_VALUE);
        // 0 = "as many as fit in the context"; tokenizer-service resolves it against the prompt length
        int max = maxTokens == null ? (chat ? 0 : 16) : maxTokens;

        double temperature = optDouble(root, "temperature", 1.0, 0, 2);
        double topP = optDouble(root, "top_p", 1.0, 0, 1);
        if (has(root, "top_p") && topP == 0) throw ApiError.invalid("top_p must be in (0, 1]; got 0.", "top_p");
        int topK = optInt(root, "top_k", -1, -1, Integer.MAX_VALUE);
        double minP = optDouble(root, "min_p", 0, 0, 1);
        double presence = optDouble(root, "presence_penalty", 0, -2, 2);
        double frequency = optDouble(root, "frequency_penalty", 0, -2, 2);
        double repetition = optDouble(root, "repetition_penalty", 1, 0, Double.MAX_VALUE);
        if (repetition <= 0) throw ApiError.invalid("repetition_penalty must be > 0.", "repetition_penalty");
        Long seed = has(root, "seed") ? optLong(root, "seed") : null;

        boolean logprobs;
        int topLogprobs;
        if (chat) {
            logprobs = optBool(root, "logprobs", false);
            topLogprobs = optInt(root, "top_logprobs", 0, 0, MAX_TOP_LOGPROBS);
            if (has(root, "top_logprobs") && !logprobs) {
                throw ApiError.invalid("top_logprobs requires logprobs to be true.", "top_logprobs");
            }
        } else { // legacy completions: "logprobs": integer number of alternatives
            logprobs = has(root, "logprobs");
            topLogprobs = optInt(root, "logprobs", 0, 0, 5);
        }
        List<String> stop = stop(root.get("stop"));
        boolean stream = optBool(root, "stream", false);
        boolean includeUsage = false;
        JsonNode so = root.get("stream_options");
        if (so != null && !so.isNull()) {
            if (!so.isObject()) throw ApiError.invalid("stream_options must be an object.", "stream_options");
            if (!stream) throw ApiError.invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options");
            includeUsage = optBool(so, "include_usage", false);
        }
        boolean echo = !chat && optBool(root, "echo", false);

        String sessionId = null;
        if (sessionHeader != null) sessionId = sessionId(sessionHeader, "X-Session-Id");
        if (has(root, "session_id")) {
            JsonNode s = root.get("session_id");
            if (!s.isTextual()) throw ApiError.invalid("session_id must be a non-empty string.", "session_id");
            sessionId = sessionId(s.asText(), "session_id");
        }
        String requestId = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
        String key = sessionId != null ? sessionId : requestId;
        var params = new SamplingParams(temperature, topP, topK, minP, presence, frequency, repetition, seed, max, topLogprobs, logprobs);
        var req = new CompletionRequested(requestId, gatewayId, key, sessionId, model, messages, prompt, params, stop,
                Priority.INTERACTIVE, nowMillis);
        return new ParsedRequest(req, chat, stream, includeUsage, echo);
    }

    /** Longest session id accepted (session-service stores up to 128 characters). */
    static final int MAX_SESSION_ID = 128;

    private static String sessionId(String id, String param) {
        if (id.isBlank()) throw ApiError.invalid(param + " must be a non-empty string.", param);
        if (id.length() > MAX_SESSION_ID) throw ApiError.invalid(param + " may have at most " + MAX_SESSION_ID + " characters.", param);
        // the id is a path segment of session-service's API ("." and ".." would name another path) and a
        // database string (PostgreSQL refuses NUL)
        if (id.equals(".") || id.equals("..") || hasControl(id)) {
            throw ApiError.invalid(param + " may not be '.' or '..' nor contain control characters.", param);
        }
        return id;
    }

    /** Whether {@code s} holds a control character (NUL included), which ids stored in PostgreSQL may not. */
    public static boolean hasControl(String s) {
        return s.chars().anyMatch(Character::isISOControl);
    }

    private static List<ChatMessage> messages(JsonNode node) {
        if (node == null || node.isNull()) throw ApiError.invalid("Missing required parameter: 'messages'.", "messages");
        if (!node.isArray()) throw ApiError.invalid("'messages' must be an array.", "messages");
        if (node.isEmpty()) throw ApiError.invalid("'messages' must contain at least one message.", "messages");
        List<ChatMessage> out = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            JsonNode m = node.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) throw ApiError.invalid(where + " must be an object.", where);
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual()) throw ApiError.invalid("Missing required parameter: '" + where + ".role'.", where + ".role");
            if (!ROLES_WITH_TEXT.contains(role.asText())) {
                throw ApiError.invalid("Invalid value: '" + role.asText() + "'. Supported values are: 'system', 'developer', 'user', 'assistant', and 'tool'.", where + ".role");
            }
            out.add(new ChatMessage(role.asText(), content(m.get("content"), where + ".content")));
        }
        return out;
    }

    /** Text content: a string, or an array of {@code {"type":"text","text":...}} parts (joined). */
    private static String content(JsonNode c, String where) {
        if (c == null || c.isNull()) throw ApiError.invalid("Missing required parameter: '" + where + "'.", where);
        if (c.isTextual()) return c.asText();
        if (c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (int j = 0; j < c.size(); j++) {
                JsonNode part = c.get(j);
                String type = part.path("type").asText("");
                if (!"text".equals(type)) {
                    throw ApiError.invalid("Only text content parts are supported; " + where + "[" + j + "] has type '" + type + "'.", where + "[" + j + "].type");
                }
                JsonNode text = part.get("text");
                if (text == null || !text.isTextual()) throw ApiError.invalid(where + "[" + j + "].text must be a string.", where + "[" + j + "].text");
                sb.append(text.asText());
            }
            return sb.toString();
        }
        throw ApiError.invalid(where + " must be a string or an array of text parts.", where);
    }

    private static String prompt(JsonNode p) {
        if (p == null || p.isNull()) throw ApiError.invalid("Missing required parameter: 'prompt'.", "prompt");
        if (p.isTextual()) return p.asText();
        if (p.isArray() && p.size() == 1 && p.get(0).isTextual()) return p.get(0).asText();
        throw ApiError.invalid("'prompt' must be a string (a list of several prompts needs n-way batching, which is not supported).", "prompt");
    }

    private static List<String> stop(JsonNode s) {
        if (s == null || s.isNull()) return List.of();
        if (s.isTextual()) return s.asText().isEmpty() ? List.of() : List.of(s.asText());
        if (s.isArray()) {
            if (s.size() > MAX_STOP) throw ApiError.invalid("'stop' may hold at most " + MAX_STOP + " sequences.", "stop");
            List<String> out = new ArrayList<>();
            for (JsonNode x : s) {
                if (!x.isTextual()) throw ApiError.invalid("'stop' must be a string or a list of strings.", "stop");
                if (!x.asText().isEmpty()) out.add(x.asText());
            }
            return out;
        }
        throw ApiError.invalid("'stop' must be a string or a list of strings.", "stop");
    }

    private static boolean has(JsonNode root, String field) {
        JsonNode v = root.get(field);
        return v != null && !v.isNull();
    }

    private static String requiredString(JsonNode root, String field) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) throw ApiError.invalid("Missing required parameter: '" + field + "'.", field);
        if (!v.isTextual()) throw ApiError.invalid("'" + field + "' must be a string.", field);
        return v.asText();
    }

    private static int optInt(JsonNode root, String field, int dflt, int min, int max) {
        if (!has(root, field)) return dflt;
        JsonNode v = root.get(field);
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw ApiError.invalid("'" + field + "' must be an integer.", field);
        int x = v.asInt();
        if (x < min || x > max) {
            throw ApiError.invalid("'" + field + "' must be " + (max == Integer.MAX_VALUE ? ">= " + min : "between " + min + " and " + max) + "; got " + x + ".", field);
        }
        return x;
    }

    private static long optLong(JsonNode root, String field) {
        JsonNode v = root.get(field);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) throw ApiError.invalid("'" + field + "' must be an integer.", field);
        return v.asLong();
    }

    private static double optDouble(JsonNode root, String field, double dflt, double min, double max) {
        if (!has(root, field)) return dflt;
        JsonNode v = root.get(field);
        if (!v.isNumber()) throw ApiError.invalid("'" + field + "' must be a number.", field);
        double x = v.asDouble();
        if (!(x >= min && x <= max)) {
            throw ApiError.invalid("'" + field + "' must be between " + fmt(min) + " and " + fmt(max) + "; got " + fmt(x) + ".", field);
        }
        return x;
    }

    private static String fmt(double d) {
        return d == Double.MAX_VALUE ? "infinity" : (d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d));
    }

    private static boolean optBool(JsonNode root, String field, boolean dflt) {
        if (!has(root, field)) return dflt;
        JsonNode v = root.get(field);
        if (!v.isBoolean()) throw ApiError.invalid("'" + field + "' must be a boolean.", field);
        return v.asBoolean();
    }
}
