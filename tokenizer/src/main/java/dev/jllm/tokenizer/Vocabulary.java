package dev.jllm.tokenizer;

import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * The token table shared by every tokenizer model: text, score and type of each id, plus the special
 * ids. Immutable.
 */
public final class Vocabulary {
    /** Texts of end-of-turn markers across model families (llama.cpp uses the same list). */
    static final List<String> EOT_TEXTS = List.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>",
            "_<EOT>", "<｜end▁of▁sentence｜>", "<|end_of_text|>", "<|return|>", "<|eom_id|>", "<|call|>");

    private final String[] pieces;      // [n_vocab]
    private final float[] scores;       // [n_vocab]
    private final TokenType[] types;    // [n_vocab]
    private final PieceTable table;
    final int bos, eos, eot, eom, unk, pad, sep, cls;   // -1 where absent
    private final BitSet eog = new BitSet();
    private final int[] byteIds = new int[256];         // <0xXX> tokens, -1 where absent

    public Vocabulary(String[] pieces, float[] scores, TokenType[] types,
                      int bos, int eos, int eot, int eom, int unk, int pad, int sep, int cls) {
        this.pieces = Objects.requireNonNull(pieces, "pieces");
        int n = pieces.length;
        this.scores = scores != null ? scores : new float[n];
        this.types = types != null ? types : filled(n);
        if (this.scores.length != n || this.types.length != n) {
            throw new TokenizerException("tokenizer vocabulary: " + n + " tokens but " + this.scores.length
                    + " scores and " + this.types.length + " token types");
        }
        this.table = new PieceTable(pieces);
        this.bos = checkId("bos", bos, n);
        this.eos = checkId("eos", eos, n);
        this.eom = checkId("eom", eom, n);
        this.unk = checkId("unknown", unk, n);
        this.pad = checkId("padding", pad, n);
        this.sep = checkId("seperator", sep, n);
        this.cls = checkId("cls", cls, n);
        int eotFound = checkId("eot", eot, n);
        for (int id = 0; id < n && eotFound < 0; id++) {
            if (this.types[id] == TokenType.CONTROL && (pieces[id].equals("<|eot_id|>") || pieces[id].equals("<|im_end|>")
                    || pieces[id].equals("<end_of_turn>") || pieces[id].equals("<|end|>"))) {
                eotFound = id;
            }
        }
        this.eot = eotFound;
        for (int id : new int[] {this.eos, this.eot, this.eom}) {
            if (id >= 0) {
                eog.set(id);
            }
        }
        for (int id = 0; id < n; id++) {
            TokenType t = this.types[id];
            if ((t == TokenType.CONTROL || t == TokenType.USER_DEFINED) && EOT_TEXTS.contains(pieces[id])) {
                eog.set(id);
            }
        }
        Arrays.fill(byteIds, -1);
        for (int b = 0; b < 256; b++) {
            byteIds[b] = table.get(String.format("<0x%02X>", b));
        }
    }

    private static TokenType[] filled(int n) {
        TokenType[] t = new TokenType[n];
        Arrays.fill(t, TokenType.NORMAL);
        return t;
    }

    private static int checkId(String what, int id, int n) {
        if (id >= n) {
            throw new TokenizerException("tokenizer: " + what + " token id " + id + " is outside the vocabulary of " + n);
        }
        return id < 0 ? -1 : id;
    }

    public int size() {
        return pieces.length;
    }

    public String piece(int id) {
        return pieces[id];
    }

    public float score(int id) {
        return scores[id];
    }

    public TokenType type(int id) {
        return types[id];
    }

    /** Id of the token with exactly this text, or -1. */
    public int id(String text) {
        return table.get(text);
    }

    int id(String s, int from, int to) {
        return table.get(s, from, to);
    }

    /** {@link #id(String, int, int)} with the region's hash (31-polynomial, as String.hashCode). */
    int id(String s, int from, int to, int hash) {
        return table.get(s, from, to, hash);
    }

    /** {@link #id(String, int, int, int)} over a char array. */
    int id(char[] a, int from, int to, int hash) {
        return table.get(a, from, to, hash);
    }

    /** Id of the {@code <0xXX>} byte token, or -1. */
    int byteId(int b) {
        return byteIds[b & 0xff];
    }

    public boolean hasAllByteTokens() {
        for (int id : byteIds) {
            if (id < 0) {
                return false;
            }
        }
        return true;
    }

    public boolean isEog(int id) {
        return id >= 0 && eog.get(id);
    }

    static OptionalInt opt(int id) {
        return id < 0 ? OptionalInt.empty() : OptionalInt.of(id);
    }
}
