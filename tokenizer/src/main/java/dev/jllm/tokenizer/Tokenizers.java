package dev.jllm.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jllm.gguf.GgufFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/** Builds {@link Tokenizer}s from GGUF metadata ({@code tokenizer.ggml.*}) or a Hugging Face model folder. */
public final class Tokenizers {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Tokenizers() {
    }

    public static Tokenizer fromGguf(Path path) throws IOException {
        try (GgufFile f = GgufFile.open(path)) {
            return fromGguf(f);
        }
    }

    /** From the {@code tokenizer.ggml.*} keys, with llama.cpp's defaults for keys that are absent. */
    public static Tokenizer fromGguf(GgufFile f) {
        String model = f.findString("tokenizer.ggml.model")
                .orElseThrow(() -> new TokenizerException("GGUF " + f.path() + ": no tokenizer.ggml.model key"));
        List<String> tokenList = f.getStringArray("tokenizer.ggml.tokens");
        String[] pieces = tokenList.toArray(new String[0]);
        int n = pieces.length;
        float[] scores = f.has("tokenizer.ggml.scores") ? f.getFloatArray("tokenizer.ggml.scores") : null;
        TokenType[] types = null;
        if (f.has("tokenizer.ggml.token_type")) {
            int[] codes = f.getIntArray("tokenizer.ggml.token_type");
            types = new TokenType[codes.length];
            for (int i = 0; i < codes.length; i++) {
                types[i] = TokenType.fromGguf(codes[i]);
            }
        }
        boolean spm = model.equals("llama");
        boolean wpm = model.equals("bert");
        int bos = id(f, "bos_token_id", spm ? 1 : wpm ? 101 : -1);
        int eos = id(f, "eos_token_id", spm ? 2 : wpm ? 102 : -1);
        int unk = id(f, "unknown_token_id", spm ? 0 : wpm ? 100 : -1);
        Vocabulary vocab = new Vocabulary(pieces, scores, types, bos, eos,
                id(f, "eot_token_id", -1), id(f, "eom_token_id", -1), unk,
                id(f, "padding_token_id", -1), id(f, "seperator_token_id", wpm ? 102 : -1),
                id(f, "cls_token_id", wpm ? 101 : -1));
        Optional<String> template = f.findString("tokenizer.chat_template");
        TokenizerModel m;
        boolean addBos;
        boolean addEos;
        switch (model) {
            case "llama" -> {
                m = new SpmModel(vocab, f.findBoolean("tokenizer.ggml.add_space_prefix").orElse(true));
                addBos = true;
                addEos = false;
            }
            case "gpt2" -> {
                String pre = f.findString("tokenizer.ggml.pre").orElse("default");
                PreTokenizer preTokenizer = PreTokenizer.forGgufName(pre);
                boolean llama3 = PreTokenizer.BY_NAME.get(pre).equals(List.of(PreTokenizer.LLAMA3))
                        && !pre.equals("chatglm-bpe") && !pre.equals("dbrx") && !pre.equals("smaug-bpe");
                List<String[]> merges = BpeModel.parseMerges(f.getStringArray("tokenizer.ggml.merges"), "tokenizer.ggml.merges");
                m = BpeModel.byteLevel(vocab, merges, preTokenizer, llama3, false);
                addBos = llama3;
                addEos = false;
            }
            case "bert" -> {
                m = new WpmModel(vocab);
                addBos = true;
                addEos = true;
            }
            default -> throw new TokenizerException("tokenizer.ggml.model: '" + model
                    + "' is not supported (supported: llama, gpt2, bert)");
        }
        addBos = f.findBoolean("tokenizer.ggml.add_bos_token").orElse(addBos);
        addEos = f.findBoolean("tokenizer.ggml.add_eos_token").orElse(addEos);
        return new Tokenizer(vocab, m, model, addBos, addEos, template);
    }

    private static int id(GgufFile f, String key, int fallback) {
        OptionalLong v = f.findLong("tokenizer.ggml." + key);
        if (v.isEmpty()) {
            return fallback;
        }
        long x = v.getAsLong();
        return x < 0 || x > Integer.MAX_VALUE ? -1 : (int) x;
    }

    /**
     * From a Hugging Face model folder: {@code tokenizer.json} (BPE model; byte-level or with a
     * {@code ▁} normalizer / Metaspace pre-tokenizer) and, when present, {@code tokenizer_config.json}
     * (add_bos_token / add_eos_token, bos/eos tokens, chat_template).
     */
    public static Tokenizer fromHuggingFace(Path dir) throws IOException {
        Path tj = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tj)) {
            throw new TokenizerException(dir + ": no tokenizer.json");
        }
        JsonNode root = JSON.readTree(tj.toFile());
        Path cfgPath = dir.resolve("tokenizer_config.json");
        JsonNode cfg = Files.isRegularFile(cfgPath) ? JSON.readTree(cfgPath.toFile()) : JSON.createObjectNode();
        return fromHuggingFace(root, cfg);
    }

    static Tokenizer fromHuggingFace(JsonNode root, JsonNode cfg) {
        JsonNode model = root.path("model");
        String type = model.path("type").asText("");
        if (!type.equals("BPE")) {
            throw new TokenizerException("tokenizer.json: model.type '" + type + "' is not supported (supported: BPE)");
        }
        // vocabulary: model.vocab plus added_tokens
        Map<Integer, String> byId = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = model.path("vocab").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            byId.put(e.getValue().asInt(), e.getKey());
        }
        Map<Integer, Boolean> added = new HashMap<>();
        for (JsonNode a : root.path("added_tokens")) {
            byId.put(a.path("id").asInt(), a.path("content").asText());
            added.put(a.path("id").asInt(), a.path("special").asBoolean(false));
        }
        int n = byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        String[] pieces = new String[n];
        TokenType[] types = new TokenType[n];
        boolean byteFallback = model.path("byte_fallback").asBoolean(false);
        for (int id = 0; id < n; id++) {
            String p = byId.get(id);
            pieces[id] = p != null ? p : "";
            Boolean special = added.get(id);
            if (p == null) {
                types[id] = TokenType.UNUSED;
            } else if (special != null) {
                types[id] = special ? TokenType.CONTROL : TokenType.USER_DEFINED;
            } else if (byteFallback && p.length() == 6 && p.startsWith("<0x") && p.endsWith(">")) {
                types[id] = TokenType.BYTE;
            } else {
                types[id] = TokenType.NORMAL;
            }
        }
        Map<String, Integer> ids = new HashMap<>();
        for (int id = n - 1; id >= 0; id--) {
            ids.put(pieces[id], id);
        }
        String unkText = model.path("unk_token").isTextual() ? model.path("unk_token").asText() : null;
        int unk = unkText != null ? ids.getOrDefault(unkText, -1) : -1;
        if (unk >= 0) {
            types[unk] = TokenType.UNKNOWN;
        }
        int bos = ids.getOrDefault(tokenText(cfg.path("bos_token")), -1);
        int eos = ids.getOrDefault(tokenText(cfg.path("eos_token")), -1);
        if (bos < 0 && postProcessorToken(root.path("post_processor"), true) != null) {
            bos = ids.getOrDefault(postProcessorToken(root.path("post_processor"), true), -1);
        }
        int pad = ids.getOrDefault(tokenText(cfg.path("pad_token")), -1);
        Vocabulary vocab = new Vocabulary(pieces, null, types, bos, eos, -1, -1, unk, pad, -1, -1);

        List<String[]> merges = new ArrayList<>();
        for (JsonNode mg : model.path("merges")) {
            if (mg.isArray()) {
                merges.add(new String[] {mg.get(0).asText(), mg.get(1).asText()});
            } else {
                merges.addAll(BpeModel.parseMerges(List.of(mg.asText()), "tokenizer.json model.merges"));
            }
        }
        boolean ignoreMerges = model.path("ignore_merges").asBoolean(false);
        JsonNode preNode = root.path("pre_tokenizer");
        JsonNode decoder = root.path("decoder");
        boolean byteLevel = hasType(preNode, "ByteLevel") || hasType(decoder, "ByteLevel");
        TokenizerModel m;
        if (byteLevel) {
            List<String> regexes = new ArrayList<>();
            boolean[] prefixSpace = {false};
            collectByteLevelRegexes(preNode, regexes, prefixSpace);
            PreTokenizer pre = regexes.isEmpty() ? null : new PreTokenizer("tokenizer.json", regexes);
            m = BpeModel.byteLevel(vocab, merges, pre, ignoreMerges, prefixSpace[0]);
        } else {
            Normalizer normalizer = normalizer(root.path("normalizer"), preNode);
            boolean strip = hasStripLeadingSpace(decoder);
            PreTokenizer pre = metaspaceSplit(preNode) ? new PreTokenizer("metaspace", List.of("[^\u2581]+|\u2581[^\u2581]*")) : null;
            m = BpeModel.characterLevel(vocab, merges, pre, ignoreMerges, normalizer::apply, byteFallback,
                    model.path("fuse_unk").asBoolean(false), strip);
        }
        boolean[] postBosEos = postProcessorBosEos(root.path("post_processor"));
        boolean addBos = cfg.has("add_bos_token") ? cfg.path("add_bos_token").asBoolean() : postBosEos[0];
        boolean addEos = cfg.has("add_eos_token") ? cfg.path("add_eos_token").asBoolean() : postBosEos[1];
        return new Tokenizer(vocab, m, byteLevel ? "hf-bpe-bytelevel" : "hf-bpe", addBos, addEos, chatTemplate(cfg));
    }

    private static String tokenText(JsonNode n) {
        if (n.isTextual()) {
            return n.asText();
        }
        if (n.isObject() && n.path("content").isTextual()) {
            return n.path("content").asText();
        }
        return "\u0000absent";
    }

    private static Optional<String> chatTemplate(JsonNode cfg) {
        JsonNode t = cfg.path("chat_template");
        if (t.isTextual()) {
            return Optional.of(t.asText());
        }
        if (t.isArray()) {   // [{name, template}, ...]: the "default" one
            for (JsonNode e : t) {
                if (e.path("name").asText().equals("default")) {
                    return Optional.of(e.path("template").asText());
                }
            }
        }
        return Optional.empty();
    }

    private static boolean hasType(JsonNode n, String type) {
        if (n == null || n.isMissingNode() || n.isNull()) {
            return false;
        }
        if (type.equals(n.path("type").asText())) {
            return true;
        }
        for (String list : new String[] {"pretokenizers", "decoders", "normalizers"}) {
            for (JsonNode c : n.path(list)) {
                if (hasType(c, type)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static void collectByteLevelRegexes(JsonNode n, List<String> out, boolean[] prefixSpace) {
        if (n == null || n.isMissingNode() || n.isNull()) {
            return;
        }
        switch (n.path("type").asText()) {
            case "Sequence" -> {
                for (JsonNode c : n.path("pretokenizers")) {
                    collectByteLevelRegexes(c, out, prefixSpace);
                }
            }
            case "Split" -> {
                String behavior = n.path("behavior").asText("Isolated");
                if (!behavior.equals("Isolated") || n.path("invert").asBoolean(false)) {
                    throw new TokenizerException("tokenizer.json: Split pre-tokenizer with behavior " + behavior
                            + (n.path("invert").asBoolean(false) ? " and invert" : "") + " is not supported");
                }
                JsonNode p = n.path("pattern");
                out.add(p.has("Regex") ? p.path("Regex").asText() : java.util.regex.Pattern.quote(p.path("String").asText()));
            }
            case "ByteLevel" -> {
                if (n.path("use_regex").asBoolean(true)) {
                    out.add(PreTokenizer.GPT2_HF);
                }
                prefixSpace[0] |= n.path("add_prefix_space").asBoolean(false);
            }
            case "Digits" -> out.add(n.path("individual_digits").asBoolean(false) ? "\\p{N}" : "\\p{N}+");
            default -> throw new TokenizerException("tokenizer.json: pre-tokenizer type '" + n.path("type").asText()
                    + "' is not supported with a byte-level BPE model");
        }
    }

    /** Character-level normalization: HF Prepend / Replace normalizers or a Metaspace pre-tokenizer. */
    interface Normalizer {
        String apply(String text, boolean atTextStart);
    }

    private static Normalizer normalizer(JsonNode norm, JsonNode pre) {
        List<Normalizer> steps = new ArrayList<>();
        addNormalizer(norm, steps);
        addMetaspace(pre, steps);
        return (text, atStart) -> {
            String s = text;
            for (Normalizer st : steps) {
                s = st.apply(s, atStart);
            }
            return s;
        };
    }

    private static void addNormalizer(JsonNode n, List<Normalizer> steps) {
        if (n == null || n.isMissingNode() || n.isNull()) {
            return;
        }
        switch (n.path("type").asText()) {
            case "Sequence" -> {
                for (JsonNode c : n.path("normalizers")) {
                    addNormalizer(c, steps);
                }
            }
            case "Prepend" -> {
                String p = n.path("prepend").asText();
                steps.add((s, atStart) -> atStart && !s.isEmpty() ? p + s : s);
            }
            case "Replace" -> {
                JsonNode pat = n.path("pattern");
                if (!pat.has("String")) {
                    throw new TokenizerException("tokenizer.json: Replace normalizer with a regex pattern is not supported");
                }
                String from = pat.path("String").asText();
                String to = n.path("content").asText();
                steps.add((s, atStart) -> s.replace(from, to));
            }
            case "NFC" -> steps.add((s, a) -> java.text.Normalizer.normalize(s, java.text.Normalizer.Form.NFC));
            case "NFKC" -> steps.add((s, a) -> java.text.Normalizer.normalize(s, java.text.Normalizer.Form.NFKC));
            case "NFD" -> steps.add((s, a) -> java.text.Normalizer.normalize(s, java.text.Normalizer.Form.NFD));
            case "NFKD" -> steps.add((s, a) -> java.text.Normalizer.normalize(s, java.text.Normalizer.Form.NFKD));
            case "Lowercase" -> steps.add((s, a) -> s.toLowerCase(java.util.Locale.ROOT));
            default -> throw new TokenizerException("tokenizer.json: normalizer type '" + n.path("type").asText()
                    + "' is not supported");
        }
    }

    private static void addMetaspace(JsonNode n, List<Normalizer> steps) {
        if (n == null || n.isMissingNode() || n.isNull()) {
            return;
        }
        switch (n.path("type").asText()) {
            case "Sequence" -> {
                for (JsonNode c : n.path("pretokenizers")) {
                    addMetaspace(c, steps);
                }
            }
            case "Metaspace" -> {
                String rep = n.path("replacement").asText("\u2581");
                String scheme = n.path("prepend_scheme").asText(n.path("add_prefix_space").asBoolean(true) ? "always" : "never");
                steps.add((s, atStart) -> {
                    String r = s.replace(" ", rep);
                    boolean prepend = scheme.equals("always") || (scheme.equals("first") && atStart);
                    return prepend && !r.startsWith(rep) ? rep + r : r;
                });
            }
            default -> throw new TokenizerException("tokenizer.json: pre-tokenizer type '" + n.path("type").asText()
                    + "' is not supported with a character-level BPE model");
        }
    }

    private static boolean metaspaceSplit(JsonNode n) {
        if (n == null || n.isMissingNode() || n.isNull()) {
            return false;
        }
        if (n.path("type").asText().equals("Metaspace")) {
            return n.path("split").asBoolean(true);
        }
        for (JsonNode c : n.path("pretokenizers")) {
            if (metaspaceSplit(c)) {
                return true;
            }
        }
        return false;
    }

    private static boolean hasStripLeadingSpace(JsonNode decoder) {
        if (decoder == null || decoder.isMissingNode() || decoder.isNull()) {
            return false;
        }
        String t = decoder.path("type").asText();
        if (t.equals("Strip")) {
            return decoder.path("content").asText().equals(" ") && decoder.path("start").asInt(0) > 0;
        }
        if (t.equals("Metaspace")) {
            return !decoder.path("prepend_scheme").asText("always").equals("never");
        }
        for (JsonNode c : decoder.path("decoders")) {
            if (hasStripLeadingSpace(c)) {
                return true;
            }
        }
        return false;
    }

    /** The TemplateProcessing post-processor, also inside a Sequence (Llama 3), or a missing node. */
    private static JsonNode templateProcessing(JsonNode pp) {
        if (pp.path("type").asText().equals("TemplateProcessing")) {
            return pp;
        }
        for (JsonNode c : pp.path("processors")) {
            JsonNode t = templateProcessing(c);
            if (!t.isMissingNode()) {
                return t;
            }
        }
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }

    /** {add BOS, add EOS} from a TemplateProcessing post-processor's "single" template. */
    private static boolean[] postProcessorBosEos(JsonNode pp) {
        boolean[] r = {false, false};
        JsonNode single = templateProcessing(pp).path("single");
        if (single.isArray() && !single.isEmpty()) {
            r[0] = single.get(0).has("SpecialToken");
            r[1] = single.size() > 1 && single.get(single.size() - 1).has("SpecialToken");
        }
        return r;
    }

    /** Text of the special token the post-processor puts first (BOS) or last (EOS), or null. */
    private static String postProcessorToken(JsonNode pp, boolean first) {
        JsonNode single = templateProcessing(pp).path("single");
        if (!single.isArray() || single.isEmpty()) {
            return null;
        }
        JsonNode e = single.get(first ? 0 : single.size() - 1).path("SpecialToken").path("id");
        return e.isTextual() ? e.asText() : null;
    }
}
