package dev.jllm.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * Text <-> token ids for one model. Thread-safe and immutable once built ({@link Tokenizers} builds it
 * from GGUF metadata or a Hugging Face {@code tokenizer.json}).
 *
 * <p>Encoding first cuts special tokens out of the text (user-defined tokens always, control tokens only
 * when the caller allows it: {@code parseSpecial}), longest token text first as llama.cpp does, then
 * runs the model's algorithm on each stretch of plain text.
 */
public final class Tokenizer {
    private final Vocabulary vocab;
    private final TokenizerModel model;
    private final String modelName;
    private final boolean addBos;
    private final boolean addEos;
    private final Optional<String> chatTemplate;
    private final int[] specialsByLength;   // [n_special] ids of control / user-defined / unknown tokens, longest first
    private final boolean[] firstCharOfSpecial = new boolean[Character.MAX_VALUE + 1];
    private final int[] specialRank;        // [n_vocab] position of a special id in specialsByLength
    private final byte[][] specialText;     // [n_vocab][*] text of control / unknown tokens, null otherwise

    Tokenizer(Vocabulary vocab, TokenizerModel model, String modelName, boolean addBos, boolean addEos,
              Optional<String> chatTemplate) {
        this.vocab = vocab;
        this.model = model;
        this.modelName = modelName;
        this.addBos = addBos && vocab.bos >= 0;
        this.addEos = addEos && vocab.eos >= 0;
        this.chatTemplate = chatTemplate;
        List<Integer> specials = new ArrayList<>();
        this.specialText = new byte[vocab.size()][];
        for (int id = 0; id < vocab.size(); id++) {
            TokenType t = vocab.type(id);
            if ((t == TokenType.CONTROL || t == TokenType.USER_DEFINED || t == TokenType.UNKNOWN) && !vocab.piece(id).isEmpty()) {
                specials.add(id);
                firstCharOfSpecial[vocab.piece(id).charAt(0)] = true;
            }
            if (t.isSpecial()) {
                specialText[id] = vocab.piece(id).getBytes(StandardCharsets.UTF_8);
            }
        }
        specials.sort(Comparator.comparingInt((Integer id) -> -vocab.piece(id).length()).thenComparingInt(id -> id));
        this.specialsByLength = specials.stream().mapToInt(Integer::intValue).toArray();
        this.specialRank = new int[vocab.size()];
        for (int i = 0; i < specialsByLength.length; i++) {
            specialRank[specialsByLength[i]] = i;
        }
    }

    public Vocabulary vocabulary() {
        return vocab;
    }

    /** "llama" (SentencePiece BPE), "gpt2" (byte-level BPE), "bert" (WordPiece), "hf-bpe". */
    /** The algorithm behind this tokenizer (tests compare its fast paths with references). */
    TokenizerModel model() {
        return model;
    }

    public String modelName() {
        return modelName;
    }

    public int vocabSize() {
        return vocab.size();
    }

    public String piece(int id) {
        checkId(id);
        return vocab.piece(id);
    }

    public OptionalInt bosId() {
        return Vocabulary.opt(vocab.bos);
    }

    public OptionalInt eosId() {
        return Vocabulary.opt(vocab.eos);
    }

    public OptionalInt eotId() {
        return Vocabulary.opt(vocab.eot);
    }

    /** End of generation: EOS, EOT, EOM and the end-of-turn markers of the known families. */
    public boolean isEog(int id) {
        return vocab.isEog(id);
    }

    public boolean addsBos() {
        return addBos;
    }

    public boolean addsEos() {
        return addEos;
    }

    /** The model's own chat template (GGUF {@code tokenizer.chat_template} / tokenizer_config.json). */
    public Optional<String> chatTemplate() {
        return chatTemplate;
    }

    /**
     * Token ids of {@code text}.
     *
     * @param addSpecial   add BOS / EOS as the model's flags say
     * @param parseSpecial match control tokens written in the text (e.g. {@code <|eot_id|>}); when false
     *                     they are tokenized as plain text. User-defined tokens always match.
     */
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        IntList out = new IntList(text.length() / 3 + 4);
        if (addSpecial && addBos) {
            out.add(vocab.bos);
        }
        boolean afterSpecial = true;
        int pos = 0;
        for (int[] m : specialMatches(text, parseSpecial)) {
            if (m[0] > pos) {
                model.encode(text.substring(pos, m[0]), pos == 0, afterSpecial, out);
                afterSpecial = false;
            }
            out.add(m[2]);
            afterSpecial = true;
            pos = m[1];
        }
        if (pos < text.length()) {
            model.encode(pos == 0 ? text : text.substring(pos), pos == 0, afterSpecial, out);
        }
        if (addSpecial && addEos) {
            out.add(vocab.eos);
        }
        return out.toArray();
    }

    /** Non-overlapping special-token matches [start, end, id], in text order. */
    private List<int[]> specialMatches(String text, boolean parseSpecial) {
        List<int[]> found = null;
        for (int i = 0; i < text.length(); i++) {
            if (!firstCharOfSpecial[text.charAt(i)]) {
                continue;
            }
            for (int id : specialsByLength) {
                String p = vocab.piece(id);
                if (!parseSpecial && vocab.type(id) != TokenType.USER_DEFINED) {
                    continue;
                }
                if (text.startsWith(p, i)) {
                    if (found == null) {
                        found = new ArrayList<>();
                    }
                    found.add(new int[] {i, i + p.length(), id});
                }
            }
        }
        if (found == null) {
            return List.of();
        }
        // llama.cpp order: longest token text first; each token claims its leftmost free occurrences
        found.sort(Comparator.comparingInt((int[] m) -> -(m[1] - m[0])).thenComparingInt(m -> rankOf(m[2])).thenComparingInt(m -> m[0]));
        TreeMap<Integer, int[]> claimed = new TreeMap<>();
        for (int[] m : found) {
            var before = claimed.floorEntry(m[0]);
            if (before != null && before.getValue()[1] > m[0]) {
                continue;
            }
            var after = claimed.ceilingEntry(m[0]);
            if (after != null && after.getKey() < m[1]) {
                continue;
            }
            claimed.put(m[0], m);
        }
        return new ArrayList<>(claimed.values());
    }

    private int rankOf(int id) {
        return specialRank[id];
    }

    /** Text of the ids. Invalid UTF-8 (e.g. a lone byte token) becomes U+FFFD. */
    public String decode(int[] ids, boolean skipSpecial) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length * 4);
        boolean atStart = true;
        for (int id : ids) {
            out.writeBytes(tokenBytes(id, skipSpecial, atStart));
            atStart &= skipped(id, skipSpecial);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * The bytes one token adds to the text. {@code atStart}: nothing has been written yet, so the
     * SentencePiece space prefix of the first word is dropped.
     */
    byte[] tokenBytes(int id, boolean skipSpecial, boolean atStart) {
        checkId(id);
        byte[] special = specialText[id];
        if (special != null) {
            return skipSpecial ? new byte[0] : special;
        }
        byte[] b = model.decodeBytes(id);
        if (atStart && b.length > 0 && b[0] == ' ' && model.stripsLeadingSpace()) {
            return java.util.Arrays.copyOfRange(b, 1, b.length);
        }
        return b;
    }

    /** Whether the token adds nothing in this mode (a special token while special tokens are skipped). */
    boolean skipped(int id, boolean skipSpecial) {
        return skipSpecial && specialText[id] != null;
    }

    /** Text of one token on its own (no leading-space rule), for logs and logprobs. */
    public String tokenText(int id, boolean skipSpecial) {
        return new String(tokenBytes(id, skipSpecial, false), StandardCharsets.UTF_8);
    }

    /** Incremental detokenizer for streaming; special tokens are skipped. */
    public StreamingDecoder newStreamingDecoder(List<String> stopStrings) {
        return new StreamingDecoder(this, stopStrings, true);
    }

    public StreamingDecoder newStreamingDecoder(List<String> stopStrings, boolean skipSpecial) {
        return new StreamingDecoder(this, stopStrings, skipSpecial);
    }

    private void checkId(int id) {
        if (id < 0 || id >= vocab.size()) {
            throw new TokenizerException("token id " + id + " is outside the vocabulary (size " + vocab.size() + ")");
        }
    }

    @Override
    public String toString() {
        return "Tokenizer[" + modelName + ", " + vocab.size() + " tokens]";
    }
}
