package dev.jllm.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * WordPiece as llama.cpp runs it for {@code tokenizer.ggml.model = bert}: NFD, lowercase, split on
 * whitespace, punctuation, ASCII symbols and CJK ideographs, then per word ({@code ▁} + word) greedy
 * longest-match; a word with an unmatched position becomes one unknown token.
 */
final class WpmModel implements TokenizerModel {
    private final Vocabulary vocab;
    private final int maxTokenLength;
    private final byte[][] decoded;   // [n_vocab][*]

    WpmModel(Vocabulary vocab) {
        this.vocab = vocab;
        int max = 0;
        decoded = new byte[vocab.size()][];
        for (int id = 0; id < vocab.size(); id++) {
            max = Math.max(max, vocab.piece(id).length());
            decoded[id] = SpmModel.pieceBytes(vocab, id);
        }
        this.maxTokenLength = max;
    }

    @Override
    public void encode(String fragment, boolean atTextStart, boolean afterSpecial, IntList out) {
        for (String word : words(fragment)) {
            String w = "\u2581" + word;
            int n = w.length();
            int mark = out.size();
            IntList ids = new IntList(8);
            boolean ok = true;
            for (int i = 0; i < n && ok; ) {
                ok = false;
                for (int j = Math.min(n, i + maxTokenLength + 1); j > i; j--) {
                    int id = vocab.id(w, i, j);
                    if (id >= 0) {
                        ids.add(id);
                        i = j;
                        ok = true;
                        break;
                    }
                }
            }
            if (ok && ids.size() > 0) {
                for (int k = 0; k < ids.size(); k++) {
                    out.add(ids.get(k));
                }
            }
            if (out.size() == mark) {
                out.add(vocab.unk);
            }
        }
    }

    static List<String> words(String text) {
        String nfd = java.text.Normalizer.normalize(text, java.text.Normalizer.Form.NFD);
        List<String> words = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int off = 0; off < nfd.length(); ) {
            int cp = nfd.codePointAt(off);
            off += Character.charCount(cp);
            if (isWhitespace(cp)) {
                flush(cur, words);
                continue;
            }
            int type = Character.getType(cp);
            if (cp == 0 || cp == 0xFFFD || isControl(type) || type == Character.NON_SPACING_MARK) {
                continue;
            }
            int lower = Character.toLowerCase(cp);
            if (isPunctuation(type) || (cp < 0x7F && isSymbol(type)) || isChinese(cp)) {
                flush(cur, words);
                words.add(new String(Character.toChars(lower)));
            } else {
                cur.appendCodePoint(lower);
            }
        }
        flush(cur, words);
        return words;
    }

    private static void flush(StringBuilder cur, List<String> words) {
        if (!cur.isEmpty()) {
            words.add(cur.toString());
            cur.setLength(0);
        }
    }

    private static boolean isWhitespace(int cp) {
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
    }

    private static boolean isControl(int type) {
        return type == Character.CONTROL || type == Character.FORMAT || type == Character.PRIVATE_USE
                || type == Character.SURROGATE || type == Character.UNASSIGNED;
    }

    private static boolean isPunctuation(int type) {
        return type == Character.CONNECTOR_PUNCTUATION || type == Character.DASH_PUNCTUATION
                || type == Character.START_PUNCTUATION || type == Character.END_PUNCTUATION
                || type == Character.INITIAL_QUOTE_PUNCTUATION || type == Character.FINAL_QUOTE_PUNCTUATION
                || type == Character.OTHER_PUNCTUATION;
    }

    private static boolean isSymbol(int type) {
        return type == Character.MATH_SYMBOL || type == Character.CURRENCY_SYMBOL
                || type == Character.MODIFIER_SYMBOL || type == Character.OTHER_SYMBOL;
    }

    private static boolean isChinese(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }

    @Override
    public byte[] decodeBytes(int id) {
        return decoded[id];
    }

    @Override
    public boolean stripsLeadingSpace() {
        return true;
    }
}
