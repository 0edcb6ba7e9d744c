package dev.jllm.tokenizer;

import dev.jllm.tokenizer.chat.ChatMessage;
import dev.jllm.tokenizer.chat.ChatTemplate;
import dev.jllm.tokenizer.chat.ChatTemplates;
import dev.jllm.tokenizer.chat.TemplateException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One test per built-in family with the expected text, the model's own template, and the sandbox. */
class ChatTemplatesTest {
    private static final List<ChatMessage> CONVERSATION = List.of(
            new ChatMessage("system", "Be brief."),
            new ChatMessage("user", "Hi"),
            new ChatMessage("assistant", "Hello!"),
            new ChatMessage("user", "Bye"));

    /** A 12-token vocabulary with the special tokens the templates use: no model file needed. */
    static Tokenizer tiny(String bos, String eos) {
        String[] pieces = {"<unk>", bos, eos, "\u2581", "a", "b", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|im_start|>", "<|im_end|>", "[INST]"};
        TokenType[] types = new TokenType[pieces.length];
        java.util.Arrays.fill(types, TokenType.NORMAL);
        for (int i : new int[] {0, 1, 2, 6, 7, 8, 9, 10, 11}) {
            types[i] = TokenType.CONTROL;
        }
        Vocabulary v = new Vocabulary(pieces, null, types, 1, 2, -1, -1, 0, -1, -1, -1);
        return new Tokenizer(v, new SpmModel(v, true), "llama", true, false, Optional.empty());
    }

    @Test
    void llama2() {
        String out = ChatTemplates.builtIn("llama2", tiny("<s>", "</s>")).render(CONVERSATION, true);
        assertEquals("<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Bye [/INST]", out);
    }

    @Test
    void llama3() {
        String out = ChatTemplates.builtIn("llama3", tiny("<|begin_of_text|>", "<|end_of_text|>")).render(CONVERSATION, true);
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", out);
    }

    @Test
    void mistral() {
        String out = ChatTemplates.builtIn("mistral", tiny("<s>", "</s>")).render(CONVERSATION, true);
        assertEquals("<s>[INST] Be brief.\n\nHi [/INST]Hello!</s>[INST] Bye [/INST]", out);
    }

    @Test
    void chatml() {
        String out = ChatTemplates.builtIn("chatml", tiny("<s>", "</s>")).render(CONVERSATION, true);
        assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n", out);
        String noPrompt = ChatTemplates.builtIn("chatml", tiny("<s>", "</s>")).render(List.of(new ChatMessage("user", "x")), false);
        assertEquals("<|im_start|>user\nx<|im_end|>\n", noPrompt);
    }

    @Test
    void familyIsGuessedFromSpecialTokens() {
        assertEquals("llama3", ChatTemplates.forModel(tiny("<s>", "</s>"), Optional.empty()).name());
    }

    @Test
    void modelTemplateWithHfIdioms() {
        // the shapes HF templates use: slicing, namespace-free set, loop vars, filters, string methods
        String src = "{% if messages[0]['role'] == 'system' %}{% set sys = messages[0]['content'] %}{% endif %}"
                + "{{ bos_token }}{% for m in messages %}{% if m['role'] != 'system' %}"
                + "{{ loop.index0 }}:{{ m['role'] | upper }}={{ m['content'].strip() }};{% endif %}{% endfor %}"
                + "{% if sys is defined %}[{{ sys }}]{% endif %}{% if add_generation_prompt %}>{% endif %}{{ eos_token }}";
        ChatTemplate t = ChatTemplates.forModel(tiny("<s>", "</s>"), Optional.of(src));
        assertEquals("jinja", t.name());
        assertEquals("<s>1:USER=Hi;2:ASSISTANT=Hello!;3:USER=Bye;[Be brief.]></s>", t.render(CONVERSATION, true));
    }

    /** Meta-Llama-3-8B-Instruct's tokenizer_config.json template, verbatim. */
    private static final String LLAMA3_OFFICIAL = "{% set loop_messages = messages %}{% for message in loop_messages %}"
            + "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}"
            + "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

    @Test
    void officialLlama3TemplateRendersLikeTheBuiltIn() {
        Tokenizer t = tiny("<|begin_of_text|>", "<|end_of_text|>");
        String official = ChatTemplates.forModel(t, Optional.of(LLAMA3_OFFICIAL)).render(CONVERSATION, true);
        assertEquals(ChatTemplates.builtIn("llama3", t).render(CONVERSATION, true), official);
    }

    /** The Mistral / Llama 2 shape: slicing, alternation check with raise_exception, whitespace control. */
    private static final String MISTRAL_STYLE = "{%- if messages[0]['role'] == 'system' %}{%- set loop_messages = messages[1:] %}"
            + "{%- else %}{%- set loop_messages = messages %}{%- endif %}{{- bos_token }}"
            + "{%- for message in loop_messages %}"
            + "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
            + "{{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{%- endif %}"
            + "{%- if message['role'] == 'user' %}{{- ' [INST] ' + message['content'] + ' [/INST]' }}"
            + "{%- else %}{{- ' ' + message['content'] + eos_token }}{%- endif %}{%- endfor %}";

    @Test
    void mistralStyleTemplateWithSlicingAndAlternation() {
        Tokenizer t = tiny("<s>", "</s>");
        ChatTemplate tpl = ChatTemplates.forModel(t, Optional.of(MISTRAL_STYLE));
        assertEquals("<s> [INST] Hi [/INST] Hello!</s> [INST] Bye [/INST]", tpl.render(CONVERSATION, true));
        TemplateException e = assertThrows(TemplateException.class,
                () -> tpl.render(List.of(new ChatMessage("user", "a"), new ChatMessage("user", "b")), true));
        assertTrue(e.getMessage().contains("Conversation roles must alternate"), e.getMessage());
    }

    @Test
    void raiseExceptionBecomesTemplateExceptionWithTheMessage() {
        List<ChatMessage> bad = List.of(new ChatMessage("user", "a"), new ChatMessage("system", "late"));
        TemplateException e = assertThrows(TemplateException.class,
                () -> ChatTemplates.builtIn("llama2", tiny("<s>", "</s>")).render(bad, true));
        assertTrue(e.getMessage().contains("The system message must come first"), e.getMessage());
    }

    @Test
    void syntaxErrorIsATemplateException() {
        ChatTemplate t = ChatTemplates.forModel(tiny("<s>", "</s>"), Optional.of("{% for m in messages %}{{ m['content'] }}"));
        assertThrows(TemplateException.class, () -> t.render(CONVERSATION, true));
    }

    @Test
    void messageContentIsNeverExecuted() {
        String evil = "{{ 7 * 7 }} {% for i in range(3) %}x{% endfor %} {{ raise_exception('boom') }} {{ bos_token }}";
        String out = ChatTemplates.builtIn("chatml", tiny("<s>", "</s>")).render(List.of(new ChatMessage("user", evil)), false);
        assertEquals("<|im_start|>user\n" + evil + "<|im_end|>\n", out);
        // a template that tries to re-render content is refused (render filter disabled)
        ChatTemplate t = ChatTemplates.forModel(tiny("<s>", "</s>"), Optional.of("{{ messages[0]['content'] | render }}"));
        String rendered;
        try {
            rendered = t.render(List.of(new ChatMessage("user", "{{ 7 * 7 }}")), false);
        } catch (TemplateException e) {
            rendered = "refused";
        }
        assertTrue(!rendered.contains("49"), "content was executed: " + rendered);
    }

    @Test
    void renderTimeIsBounded() {
        ChatTemplate t = ChatTemplates.forModel(tiny("<s>", "</s>"),
                Optional.of("{% for i in range(100000) %}{% for j in range(100000) %}{% if j == -1 %}x{% endif %}{% endfor %}{% endfor %}done"));
        long t0 = System.nanoTime();
        TemplateException e = assertThrows(TemplateException.class, () -> t.render(CONVERSATION, true));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(e.getMessage().contains("ran longer"), e.getMessage());
        assertTrue(ms < 4 * ChatTemplates.MAX_RENDER_NANOS / 1_000_000, "took " + ms + " ms");
    }

    @Test
    void javaObjectsAreNotReachable() {
        ChatTemplate t = ChatTemplates.forModel(tiny("<s>", "</s>"),
                Optional.of("[{{ bos_token.getClass() }}][{{ messages.getClass().getName() }}][{{ messages[0].getClass() }}]"));
        String out;
        try {
            out = t.render(CONVERSATION, true);
        } catch (TemplateException e) {
            out = "";   // refused: getClass is a restricted method
        }
        assertTrue(!out.contains("class java.") && !out.contains("java.util"), "reflection reached: " + out);
    }

    @Test
    void outputSizeIsBounded() {
        ChatTemplate t = ChatTemplates.forModel(tiny("<s>", "</s>"),
                Optional.of("{% for i in range(100000) %}{% for j in range(100000) %}xxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}{% endfor %}"));
        String out;
        try {
            out = t.render(CONVERSATION, true);
        } catch (TemplateException e) {
            out = "";
        }
        assertTrue(out.length() <= ChatTemplates.MAX_OUTPUT_CHARS, "output of " + out.length() + " chars");
    }
}
