package dev.jllm.tokenizerservice.rest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jllm.contracts.ChatMessage;
import dev.jllm.tokenizer.Tokenizer;
import dev.jllm.tokenizerservice.service.ChatRenderer;
import dev.jllm.tokenizerservice.service.ModelTokenizer;
import dev.jllm.tokenizerservice.service.RequestRejected;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * llama.cpp server's tokenizer endpoints, same request and response shapes:
 * {@code POST /tokenize {"content", "add_special", "parse_special", "with_pieces"}},
 * {@code POST /detokenize {"tokens"}}, {@code POST /apply-template {"messages"}}. Pure CPU work of
 * microseconds to milliseconds: runs on worker threads (blocking signature), not the event loop.
 */
@Path("/")
@Consumes(MediaType.APPLICATION_JSON)
@Produces(MediaType.APPLICATION_JSON)
public class TokenizeResource {
    /** Largest input accepted here (the gateway limits request bodies too). */
    static final int MAX_CHARS = 4 << 20;

    @Inject ModelTokenizer model;
    @Inject ChatRenderer chat;

    @POST
    @Path("/tokenize")
    public Map<String, Object> tokenize(JsonNode body) {
        String content = text(body, "content");
        boolean addSpecial = body.path("add_special").asBoolean(false);
        boolean parseSpecial = body.path("parse_special").asBoolean(true);
        boolean withPieces = body.path("with_pieces").asBoolean(false);
        Tokenizer t = model.tokenizer();
        int[] ids = t.encode(content, addSpecial, parseSpecial);
        if (!withPieces) return Map.of("tokens", ids);
        List<Map<String, Object>> out = new ArrayList<>(ids.length);
        for (int id : ids) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("id", id);
            e.put("piece", t.tokenText(id, false));
            out.add(e);
        }
        return Map.of("tokens", out);
    }

    @POST
    @Path("/detokenize")
    public Map<String, Object> detokenize(JsonNode body) {
        JsonNode tokens = body == null ? null : body.get("tokens");
        if (tokens == null || !tokens.isArray()) throw new RequestRejected(400, "'tokens' must be an array of token ids.", "tokens", null);
        Tokenizer t = model.tokenizer();
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode n = tokens.get(i);
            if (!n.canConvertToInt() || n.asInt() < 0 || n.asInt() >= t.vocabSize()) {
                throw new RequestRejected(400, "tokens[" + i + "] is not a token id of this model (vocabulary of " + t.vocabSize() + ").", "tokens", null);
            }
            ids[i] = n.asInt();
        }
        return Map.of("content", t.decode(ids, false));
    }

    @POST
    @Path("/apply-template")
    public Map<String, Object> applyTemplate(JsonNode body) {
        JsonNode msgs = body == null ? null : body.get("messages");
        if (msgs == null || !msgs.isArray()) throw new RequestRejected(400, "'messages' must be an array.", "messages", null);
        List<ChatMessage> messages = new ArrayList<>();
        for (int i = 0; i < msgs.size(); i++) {
            JsonNode m = msgs.get(i);
            if (!m.path("role").isTextual() || !m.path("content").isTextual()) {
                throw new RequestRejected(400, "messages[" + i + "] needs a string 'role' and a string 'content'.", "messages", null);
            }
            messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
        }
        boolean addGenerationPrompt = body.path("add_generation_prompt").asBoolean(true);
        return Map.of("prompt", chat.render(messages, addGenerationPrompt));
    }

    private static String text(JsonNode body, String field) {
        JsonNode n = body == null ? null : body.get(field);
        if (n == null || !n.isTextual()) throw new RequestRejected(400, "'" + field + "' must be a string.", field, null);
        if (n.asText().length() > MAX_CHARS) throw new RequestRejected(413, "'" + field + "' is longer than " + MAX_CHARS + " characters.", field, null);
        return n.asText();
    }

    /** OpenAI-style error bodies for this resource's rejections. */
    @Provider
    public static class Rejections implements ExceptionMapper<RequestRejected> {
        @Override
        public Response toResponse(RequestRejected e) {
            Map<String, Object> err = new LinkedHashMap<>();
            err.put("message", e.getMessage());
            err.put("type", "invalid_request_error");
            err.put("param", e.param);
            err.put("code", e.code);
            return Response.status(e.status).type(MediaType.APPLICATION_JSON).entity(Map.of("error", err)).build();
        }
    }
}
