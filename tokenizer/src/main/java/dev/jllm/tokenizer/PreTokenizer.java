package dev.jllm.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into words before BPE, as llama.cpp's {@code unicode_regex_split}: each regex in turn
 * splits every current piece into its matches and the gaps between them. Regexes run with Unicode
 * classes ({@code \s} is Unicode White_Space, {@code \p{L}}, {@code \p{N}}, {@code \p{P}} are the
 * Unicode categories); a piece is matched on its own, so lookaheads and {@code $} stop at its end.
 */
public final class PreTokenizer {
    static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    /** HF's ByteLevel(use_regex=true) pattern: GPT-2's with the trailing {@code \s+}. */
    static final String GPT2_HF = GPT2 + "|\\s+";
    static final String LLAMA3 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
            + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String QWEN2 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
            + "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String CJK = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+";
    static final String DEEPSEEK_LETTERS = "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\u1f7dᾀ-ᾴᾶ-ᾼ\u1fbeῂ-ῄῆ-ῌῐ-\u1fd3ῖ-\u1fdbῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212a-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+";

    /** {@code tokenizer.ggml.pre} names -> regex lists (llama.cpp's table). */
    static final Map<String, List<String>> BY_NAME = Map.ofEntries(
            Map.entry("default", List.of("[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]")),
            Map.entry("llama3", List.of(LLAMA3)),
            Map.entry("llama-v3", List.of(LLAMA3)),
            Map.entry("llama-bpe", List.of(LLAMA3)),
            Map.entry("falcon3", List.of(LLAMA3)),
            Map.entry("dbrx", List.of(LLAMA3)),
            Map.entry("smaug-bpe", List.of(LLAMA3)),
            Map.entry("chatglm-bpe", List.of(LLAMA3)),
            Map.entry("deepseek-llm", List.of("[\r\n]", DEEPSEEK_LETTERS, "\\s?[!-/:-~！-／：-～‘-‟　-。]+", "\\s+$", CJK, "\\p{N}+")),
            Map.entry("deepseek-coder", List.of("[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", CJK, "\\p{N}")),
            Map.entry("falcon", List.of("[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]")),
            Map.entry("starcoder", List.of("\\p{N}", GPT2)),
            Map.entry("refact", List.of("\\p{N}", GPT2)),
            Map.entry("command-r", List.of("\\p{N}", GPT2)),
            Map.entry("smollm", List.of("\\p{N}", GPT2)),
            Map.entry("codeshell", List.of("\\p{N}", GPT2)),
            Map.entry("exaone", List.of("\\p{N}", GPT2)),
            Map.entry("gpt-2", List.of(GPT2)),
            Map.entry("gpt2", List.of(GPT2)),
            Map.entry("phi-2", List.of(GPT2)),
            Map.entry("mpt", List.of(GPT2)),
            Map.entry("olmo", List.of(GPT2)),
            Map.entry("jais", List.of(GPT2)),
            Map.entry("gpt-neox", List.of(GPT2)),
            Map.entry("qwen2", List.of(QWEN2)),
            Map.entry("deepseek-r1-qwen", List.of(QWEN2)),
            Map.entry("stablelm2", List.of(QWEN2)),
            Map.entry("poro-chat", List.of(" ?[^(\\s|.,!?…。，、।۔،)]+")),
            Map.entry("bloom", List.of(" ?[^(\\s|.,!?…。，、।۔،)]+")),
            Map.entry("viking", List.of(" ?[^(\\s|.,!?…。，、।۔،)]+", "\\p{N}")));

    /** One split stage: appends the piece ends of text[start, end). */
    private interface Stage {
        void split(String text, int start, int end, IntList out);
    }

    private final String name;
    private final List<Stage> stages;

    public PreTokenizer(String name, List<String> regexes) {
        this(name, regexes, true);
    }

    /**
     * @param fast use the hand-written splitters for the GPT-2 and Llama 3 regexes and the class-run
     *             splitter for the simple ones (false: regex only)
     */
    PreTokenizer(String name, List<String> regexes, boolean fast) {
        this.name = name;
        List<Stage> st = new ArrayList<>();
        for (String r : regexes) {
            if (fast && r.equals(GPT2)) {
                st.add(FastSplitters::gpt2);
            } else if (fast && r.equals(LLAMA3)) {
                st.add(FastSplitters::llama3);
            } else if (fast && ClassRunSplitter.of(r) != null) {
                st.add(ClassRunSplitter.of(r)::split);
            } else {
                st.add(regexStage(name, r));
            }
        }
        this.stages = List.copyOf(st);
    }

    private static Stage regexStage(String name, String regex) {
        Pattern p;
        try {
            p = Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
        } catch (RuntimeException e) {
            throw new TokenizerException("pre-tokenizer " + name + ": bad regex " + regex + ": " + e.getMessage(), e);
        }
        return (text, start, end, out) -> {
            Matcher m = p.matcher(text);
            m.region(start, end);
            int pos = start;
            while (m.find()) {
                if (m.start() > pos) {
                    out.add(m.start());
                }
                if (m.end() > m.start()) {
                    out.add(m.end());
                }
                pos = m.end();
            }
            if (pos < end) {
                out.add(end);
            }
        };
    }

    /** The same splits with the regexes only: the reference the fast splitters are tested against. */
    PreTokenizer referenceOnly(List<String> regexes) {
        return new PreTokenizer(name, regexes, false);
    }

    /** The pre-tokenizer llama.cpp uses for this {@code tokenizer.ggml.pre} value; unknown names fail. */
    public static PreTokenizer forGgufName(String name) {
        List<String> r = BY_NAME.get(name);
        if (r == null) {
            throw new TokenizerException("tokenizer.ggml.pre: unknown pre-tokenizer '" + name + "' (known: "
                    + new java.util.TreeSet<>(BY_NAME.keySet()) + ")");
        }
        return new PreTokenizer(name, r);
    }

    public String name() {
        return name;
    }

    /** Word boundaries of {@code text}: ends[i] is the end offset of word i. */
    int[] split(String text) {
        int[] ends = {text.length()};
        int count = text.isEmpty() ? 0 : 1;
        for (Stage stage : stages) {
            IntList next = new IntList(count * 2 + 8);
            int start = 0;
            for (int w = 0; w < count; w++) {
                int end = ends[w];
                stage.split(text, start, end, next);
                start = end;
            }
            ends = next.toArray();
            count = ends.length;
        }
        return ends;
    }

    /** The words, for tests and debugging. */
    public List<String> words(String text) {
        int[] ends = split(text);
        List<String> out = new ArrayList<>(ends.length);
        int start = 0;
        for (int e : ends) {
            out.add(text.substring(start, e));
            start = e;
        }
        return out;
    }
}
