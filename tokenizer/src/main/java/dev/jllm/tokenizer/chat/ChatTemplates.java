package dev.jllm.tokenizer.chat;

import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.interpret.Context.Library;
import dev.jllm.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Chat templates: the model's own Jinja template (GGUF {@code tokenizer.chat_template},
 * tokenizer_config.json {@code chat_template}) rendered with Jinjava, or a built-in template by family
 * when the model has none.
 *
 * <p>Sandbox: message content is passed as data and never parsed as template code (nested
 * interpretation off, the {@code render} filter and include/import/extends tags disabled). Output size,
 * string, list and range sizes, render depth and macro recursion are bounded, and a render stops after
 * {@link #MAX_RENDER_NANOS} (checked before each template node).
 */
public final class ChatTemplates {
    /** Longest prompt text a template may produce. */
    public static final long MAX_OUTPUT_CHARS = 8L << 20;
    private static final int MAX_RENDER_DEPTH = 10;
    /** Longest a render may take: checked before every template node. */
    public static final long MAX_RENDER_NANOS = 2_000_000_000L;
    private static final ThreadLocal<long[]> DEADLINE = ThreadLocal.withInitial(() -> new long[] {Long.MAX_VALUE});

    public static final String LLAMA2 = """
            {% for message in messages %}\
            {% if message['role'] == 'system' %}{% if not loop.first %}{{ raise_exception('The system message must come first') }}{% endif %}\
            {% set system_message = message['content'] %}\
            {% elif message['role'] == 'user' %}\
            {{ bos_token ~ '[INST] ' }}{% if system_message is defined and loop.index0 == 1 %}<<SYS>>\n{{ system_message }}\n<</SYS>>\n\n{% endif %}{{ message['content'] | trim }} [/INST]\
            {% elif message['role'] == 'assistant' %} {{ message['content'] | trim }} {{ eos_token }}\
            {% else %}{{ raise_exception('Unsupported role for llama2: ' ~ message['role']) }}{% endif %}\
            {% endfor %}""";

    public static final String LLAMA3 = """
            {{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n{{ message['content'] | trim }}<|eot_id|>{% endfor %}\
            {% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}""";

    public static final String MISTRAL = """
            {{ bos_token }}{% for message in messages %}\
            {% if message['role'] == 'system' %}{% if not loop.first %}{{ raise_exception('The system message must come first') }}{% endif %}\
            {% set system_message = message['content'] %}\
            {% elif message['role'] == 'user' %}{{ '[INST] ' }}{% if system_message is defined and loop.index0 == 1 %}{{ system_message }}\n\n{% endif %}{{ message['content'] }} [/INST]\
            {% elif message['role'] == 'assistant' %}{{ message['content'] }}{{ eos_token }}\
            {% else %}{{ raise_exception('Unsupported role for mistral: ' ~ message['role']) }}{% endif %}\
            {% endfor %}""";

    public static final String CHATML = """
            {% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}\
            {% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}""";

    private static final Map<String, String> BUILT_IN = Map.of("llama2", LLAMA2, "llama3", LLAMA3, "mistral", MISTRAL, "chatml", CHATML);

    private ChatTemplates() {
    }

    /**
     * The template to use for a model: {@code templateSource} if given, else the model's own, else the
     * built-in template of its family (guessed from its special tokens).
     */
    public static ChatTemplate forModel(Tokenizer tokenizer, Optional<String> templateSource) {
        Optional<String> src = templateSource.isPresent() ? templateSource : tokenizer.chatTemplate();
        if (src.isPresent() && !src.get().isBlank()) {
            return new JinjaTemplate("jinja", src.get(), tokenizer);
        }
        return builtIn(family(tokenizer), tokenizer);
    }

    /** A built-in template: "llama2", "llama3", "mistral" or "chatml". */
    public static ChatTemplate builtIn(String family, Tokenizer tokenizer) {
        String src = BUILT_IN.get(family);
        if (src == null) {
            throw new TemplateException("no built-in chat template '" + family + "' (known: " + BUILT_IN.keySet() + ")");
        }
        return new JinjaTemplate(family, src, tokenizer);
    }

    /** The family of a model without a template, from its special tokens. */
    static String family(Tokenizer t) {
        var v = t.vocabulary();
        if (v.id("<|start_header_id|>") >= 0 && v.id("<|eot_id|>") >= 0) {
            return "llama3";
        }
        if (v.id("<|im_start|>") >= 0) {
            return "chatml";
        }
        if (v.id("[INST]") >= 0) {
            return "mistral";
        }
        return t.modelName().equals("llama") ? "llama2" : "chatml";
    }

    /** Jinjava set up as a sandbox. */
    static Jinjava sandbox() {
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)              // as HF's apply_chat_template
                .withLstripBlocks(true)
                .withMaxOutputSize(MAX_OUTPUT_CHARS)
                .withMaxStringLength(MAX_OUTPUT_CHARS)
                .withMaxListSize(100_000)
                .withMaxMapSize(100_000)
                .withMaxRenderDepth(MAX_RENDER_DEPTH)
                .withNestedInterpretationEnabled(false)   // output that looks like template code stays text
                .withRangeLimit(100_000)
                .withMaxMacroRecursionDepth(MAX_RENDER_DEPTH)
                .withEnableRecursiveMacroCalls(false)
                .withFailOnUnknownTokens(false)
                .withNodePreProcessor((node, interpreter) -> {
                    if (System.nanoTime() > DEADLINE.get()[0]) {
                        throw new TemplateRaised("the template ran longer than " + MAX_RENDER_NANOS / 1_000_000 + " ms");
                    }
                })
                .withDisabled(ImmutableMap.<Library, java.util.Set<String>>of(
                        Library.FILTER, ImmutableSet.of("render", "fromjson", "fromyaml"),
                        Library.TAG, ImmutableSet.of("include", "import", "from", "extends")))
                .build();
        Jinjava j = new Jinjava(config);
        j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                ChatTemplates.class, "raiseException", String.class));
        return j;
    }

    /** {@code raise_exception(message)} of HF templates. */
    public static String raiseException(String message) {
        throw new TemplateRaised(message);
    }

    static final class TemplateRaised extends RuntimeException {
        TemplateRaised(String message) {
            super(message);
        }
    }

    private static final class JinjaTemplate implements ChatTemplate {
        private final String name;
        private final String source;
        private final Jinjava jinjava = sandbox();
        private final String bos;
        private final String eos;

        JinjaTemplate(String name, String source, Tokenizer t) {
            this.name = name;
            this.source = source;
            this.bos = t.bosId().isPresent() ? t.piece(t.bosId().getAsInt()) : "";
            this.eos = t.eosId().isPresent() ? t.piece(t.eosId().getAsInt()) : "";
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
            List<Map<String, Object>> msgs = new ArrayList<>(messages.size());
            for (ChatMessage m : messages) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("role", m.role());
                e.put("content", m.content());
                msgs.add(e);
            }
            Map<String, Object> ctx = new HashMap<>();
            ctx.put("messages", msgs);
            ctx.put("add_generation_prompt", addGenerationPrompt);
            ctx.put("bos_token", bos);
            ctx.put("eos_token", eos);
            RenderResult r;
            long[] deadline = DEADLINE.get();
            deadline[0] = System.nanoTime() + MAX_RENDER_NANOS;
            try {
                r = jinjava.renderForResult(source, ctx);
            } catch (TemplateRaised e) {
                throw new TemplateException("chat template (" + name + ") rejected the conversation: " + e.getMessage());
            } catch (RuntimeException e) {
                TemplateRaised raised = findRaised(e);
                if (raised != null) {
                    throw new TemplateException("chat template (" + name + ") rejected the conversation: " + raised.getMessage());
                }
                throw new TemplateException("chat template (" + name + ") failed: " + e.getMessage());
            } finally {
                deadline[0] = Long.MAX_VALUE;
            }
            for (TemplateError err : r.getErrors()) {
                TemplateRaised raised = findRaised(err.getException());
                if (raised != null) {
                    throw new TemplateException("chat template (" + name + ") rejected the conversation: " + raised.getMessage());
                }
            }
            for (TemplateError err : r.getErrors()) {
                if (err.getSeverity() == TemplateError.ErrorType.FATAL) {
                    throw new TemplateException("chat template (" + name + ") failed at line " + err.getLineno() + ": " + err.getMessage());
                }
            }
            return r.getOutput();
        }

        private static TemplateRaised findRaised(Throwable e) {
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof TemplateRaised tr) {
                    return tr;
                }
            }
            return null;
        }
    }
}
