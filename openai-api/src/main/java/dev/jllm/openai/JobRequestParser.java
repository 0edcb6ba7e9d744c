package dev.jllm.openai;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jllm.contracts.CompletionRequested;
import dev.jllm.contracts.JobItem;
import dev.jllm.contracts.Priority;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The body of {@code POST /v1/jobs} and the items of a {@code JobSubmitted} record: one request
 * ({@code {"custom_id"?, "url", "body"}}, as a line of OpenAI's Batch API) or {@code {"requests": [...],
 * "metadata"?}}. Every item's body is checked by {@link RequestParser} like a direct request; an error names
 * the item ({@code requests[3].body.temperature}).
 */
public final class JobRequestParser {
    /**
     * Job ids chosen by Kafka-native clients: what is safe in a URL path, a Kafka key and a request id ("." and
     * ".." are not: as a path segment they name another path).
     */
    public static final Pattern JOB_ID = Pattern.compile("(?!\\.\\.?$)[A-Za-z0-9._:-]{1,64}");
    static final int MAX_CUSTOM_ID = 256;

    /** A job as submitted: its items in order and the client's metadata (or null). */
    public record Parsed(List<JobItem> items, JsonNode metadata) {}

    private final ObjectMapper mapper;
    private final RequestParser parser;
    private final int maxItems;

    /** @param models model names items may name, or null for any */
    public JobRequestParser(ObjectMapper mapper, List<String> models, int maxItems) {
        this.mapper = mapper;
        this.parser = new RequestParser(mapper, models);
        this.maxItems = maxItems;
    }

    public Parsed parse(byte[] body) {
        JsonNode root;
        try {
            root = mapper.readTree(body);
        } catch (JacksonException e) {
            throw ApiError.invalid("We could not parse the JSON body of your request: " + e.getOriginalMessage(), null);
        } catch (IOException e) {
            throw ApiError.invalid("could not read the request body", null);
        }
        if (root == null || !root.isObject()) throw ApiError.invalid("The request body must be a JSON object.", null);
        JsonNode metadata = root.get("metadata");
        if (metadata != null && !metadata.isNull() && !metadata.isObject()) throw ApiError.invalid("'metadata' must be an object.", "metadata");
        if (metadata != null && metadata.isNull()) metadata = null;

        JsonNode requests = root.get("requests");
        List<JobItem> items = new ArrayList<>();
        if (requests == null || requests.isNull()) {
            if (!root.has("url") && !root.has("body")) {
                throw ApiError.invalid("A job is one request ({\"url\": ..., \"body\": {...}}) or {\"requests\": [...]}.", "requests");
            }
            items.add(item(root, ""));
        } else {
            if (!requests.isArray()) throw ApiError.invalid("'requests' must be an array.", "requests");
            for (int i = 0; i < requests.size(); i++) items.add(item(requests.get(i), "requests[" + i + "]."));
        }
        checkCount(items.size());
        for (int i = 0; i < items.size(); i++) check(items.get(i), requests == null || requests.isNull() ? "" : "requests[" + i + "].");
        return new Parsed(items, metadata);
    }

    /** The item count a job may have. */
    public void checkCount(int n) {
        if (n == 0) throw ApiError.invalid("A job needs at least one request.", "requests");
        if (n > maxItems) throw ApiError.invalid("A job may hold at most " + maxItems + " requests; got " + n + ".", "requests");
    }

    private JobItem item(JsonNode node, String where) {
        if (node == null || !node.isObject()) throw ApiError.invalid(where + " must be an object.", where.isEmpty() ? null : strip(where));
        JsonNode customId = node.has("custom_id") ? node.get("custom_id") : node.get("customId");
        if (customId != null && !customId.isNull()
                && (!customId.isTextual() || !validCustomId(customId.asText()))) {
            throw ApiError.invalid(where + "custom_id must be a string of 1 to " + MAX_CUSTOM_ID + " characters, none a control character.",
                    where + "custom_id");
        }
        JsonNode url = node.get("url");
        return new JobItem(customId == null || customId.isNull() ? null : customId.asText(),
                url == null || !url.isTextual() ? null : url.asText(), node.get("body"));
    }

    /** A custom id that can be stored and echoed: 1 to 256 characters, no control character (PostgreSQL refuses NUL). */
    public static boolean validCustomId(String id) {
        return !id.isEmpty() && id.length() <= MAX_CUSTOM_ID && !RequestParser.hasControl(id);
    }

    /** Checks one item as a direct request would be checked; the ApiError names it with {@code where}. */
    public void check(JobItem item, String where) {
        toRequest(item, "jobs", "check", 0, where);
    }

    /**
     * The item as the pipeline's request, at batch priority, with the given ids (a job item never has a
     * session: its key is its request id).
     */
    public ParsedRequest toRequest(JobItem item, String gatewayId, String requestId, long nowMillis, String where) {
        boolean chat;
        if (JobItem.CHAT_URL.equals(item.url())) chat = true;
        else if (JobItem.COMPLETIONS_URL.equals(item.url())) chat = false;
        else throw ApiError.invalid(where + "url must be \"" + JobItem.CHAT_URL + "\" or \"" + JobItem.COMPLETIONS_URL + "\".", where + "url");
        JsonNode body = item.body();
        if (body == null || !body.isObject()) throw ApiError.invalid(where + "body must be a JSON object (the request body).", where + "body");
        if (body.path("stream").asBoolean(false)) {
            throw ApiError.invalid(where + "body.stream: a job's results are whole responses; leave 'stream' out.", where + "body.stream");
        }
        if (body.hasNonNull("session_id")) {
            throw ApiError.invalid(where + "body.session_id: job requests cannot continue a session.", where + "body.session_id");
        }
        ParsedRequest p;
        try {
            p = parser.parse(body, chat, gatewayId, null, nowMillis);
        } catch (ApiError e) {
            throw new ApiError(e.status, e.type, where + "body: " + e.getMessage(),
                    where + "body" + (e.param == null ? "" : "." + e.param), e.code);
        }
        CompletionRequested r = p.request();
        var req = new CompletionRequested(requestId, gatewayId, requestId, null, r.model(), r.messages(), r.prompt(), r.params(),
                r.stop(), Priority.BATCH, nowMillis);
        return new ParsedRequest(req, p.chat(), false, false, p.echo());
    }

    private static String strip(String where) {
        return where.endsWith(".") ? where.substring(0, where.length() - 1) : where;
    }
}
