package dev.jllm.tokenizer.chat;

import java.util.List;

/** Renders a conversation into the prompt text the model was trained on. Thread-safe. */
public interface ChatTemplate {

    /**
     * @param addGenerationPrompt end with the header that opens the assistant's turn
     * @throws TemplateException with the template's own message for conversations it rejects
     */
    String render(List<ChatMessage> messages, boolean addGenerationPrompt);

    /** "jinja" for the model's own template, else the built-in family ("llama2", "llama3", "mistral", "chatml"). */
    String name();
}
