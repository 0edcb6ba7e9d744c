package dev.jllm.tokenizerservice.service;

import dev.jllm.contracts.ChatMessage;
import dev.jllm.tokenizer.chat.ChatTemplate;
import dev.jllm.tokenizer.chat.ChatTemplates;
import dev.jllm.tokenizer.chat.TemplateException;
import dev.jllm.tokenizerservice.config.TokenizerServiceConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.List;

/**
 * Renders chat messages with the model's own Jinja template (or the configured override, or a built-in one for
 * the model's family). Content is data, never template code; a template that rejects the conversation (e.g.
 * roles out of order, via {@code raise_exception}) becomes a 400 naming the problem.
 */
@ApplicationScoped
public class ChatRenderer {
    @Inject ModelTokenizer model;
    @Inject TokenizerServiceConfig config;

    private volatile ChatTemplate template;

    private ChatTemplate template() {
        ChatTemplate t = template;
        if (t == null) {
            t = ChatTemplates.forModel(model.tokenizer(), config.chatTemplate());
            template = t;
        }
        return t;
    }

    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        if (messages == null || messages.isEmpty()) throw new RequestRejected(400, "'messages' must not be empty.", "messages", null);
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            if (m.content() == null) throw new RequestRejected(400, "messages[" + i + "].content must be text.", "messages[" + i + "].content", null);
        }
        try {
            return template().render(messages.stream()
                    .map(m -> new dev.jllm.tokenizer.chat.ChatMessage(m.role(), m.content())).toList(), addGenerationPrompt);
        } catch (TemplateException | IllegalArgumentException e) {
            throw new RequestRejected(400, "The chat template rejected the messages: " + e.getMessage(), "messages", "invalid_messages");
        }
    }

    public String templateName() {
        return template().name();
    }
}
