package dev.jllm.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * SentencePiece BPE as llama.cpp runs it for {@code tokenizer.ggml.model = llama} (Llama 1/2, Mistral,
 * Mixtral): spaces become {@code ▁}, a space is prefixed to text that begins the input or follows a
 * special token, adjacent symbols merge best-score first (ties: leftmost) while the merged text is a
 * token, and symbols left over fall back to {@code <0xNN>} byte tokens, or to one unknown token per run
 * of unknown characters when the vocabulary has no byte tokens.
 *
 * <p>The merge loop keeps the symbols in a linked list and the candidate pairs in a heap: O(n log n).
 */
final class SpmModel implements TokenizerModel {
    private static final char SPACE_MARK = '\u2581';

    private final Vocabulary vocab;
    private final boolean addSpacePrefix;
    private final boolean byteFallback;
    private final byte[][] decoded;   // [n_vocab][*] bytes of normal / byte / user-defined tokens
    private final int[] mergeRank;    // [n_vocab] dense rank of the score, 0 = best

    SpmModel(Vocabulary vocab, boolean addSpacePrefix) {
        this.vocab = vocab;
        this.addSpacePrefix = addSpacePrefix;
        this.byteFallback = vocab.hasAllByteTokens();
        Integer[] order = new Integer[vocab.size()];
        for (int id = 0; id < order.length; id++) {
            order[id] = id;
        }
        java.util.Arrays.sort(order, (a, b) -> Float.compare(vocab.score(b), vocab.score(a)));
        this.mergeRank = new int[vocab.size()];
        for (int r = 0, rank = 0; r < order.length; r++) {
            if (r > 0 && vocab.score(order[r]) != vocab.score(order[r - 1])) {
                rank++;
            }
            mergeRank[order[r]] = rank;   // dense rank of the score: equal scores, equal rank
        }
        this.decoded = new byte[vocab.size()][];
        for (int id = 0; id < vocab.size(); id++) {
            decoded[id] = pieceBytes(vocab, id);
        }
    }

    /** Bytes of a SentencePiece-style piece: {@code ▁} is a space, {@code <0xNN>} is one byte. */
    static byte[] pieceBytes(Vocabulary vocab, int id) {
        String p = vocab.piece(id);
        return switch (vocab.type(id)) {
            case BYTE -> new byte[] {(byte) Integer.parseInt(p.substring(3, 5), 16)};
            case USER_DEFINED -> p.getBytes(StandardCharsets.UTF_8);
            case NORMAL, UNDEFINED -> p.replace(SPACE_MARK, ' ').getBytes(StandardCharsets.UTF_8);
            default -> new byte[0];
        };
    }

    @Override
    public void encode(String fragment, boolean atTextStart, boolean afterSpecial, IntList out) {
        String prefix = addSpacePrefix && afterSpecial ? " " : "";
        String s = (prefix + fragment).replace(' ', SPACE_MARK);
        if (s.isEmpty()) {
            return;
        }
        // symbols: one per code point, as char ranges of s
        int n = s.codePointCount(0, s.length());
        int[] start = new int[n];   // [n] char offset
        int[] len = new int[n];     // [n] chars; 0 = merged away
        int[] prev = new int[n];    // [n]
        int[] next = new int[n];    // [n]
        for (int i = 0, off = 0; i < n; i++) {
            int cl = Character.charCount(s.codePointAt(off));
            start[i] = off;
            len[i] = cl;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            off += cl;
        }
        LongHeap queue = new LongHeap(n);
        for (int i = 1; i < n; i++) {
            tryAddBigram(s, start, len, i - 1, i, queue);
        }
        while (!queue.isEmpty()) {
            long key = queue.pop();
            int left = LongHeap.left(key);
            if (len[left] == 0) {
                continue;
            }
            int right = next[left];
            if (right < 0) {
                continue;
            }
            int id = vocab.id(s, start[left], start[left] + len[left] + len[right]);
            if (id < 0 || mergeRank[id] != LongHeap.priority(key)) {
                continue;   // stale entry: the pair changed since it was queued
            }
            len[left] += len[right];
            len[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            tryAddBigram(s, start, len, prev[left], left, queue);
            tryAddBigram(s, start, len, left, next[left], queue);
        }
        boolean prevUnknown = false;
        for (int i = 0; i != -1; i = next[i]) {
            int id = vocab.id(s, start[i], start[i] + len[i]);
            if (id >= 0) {
                out.add(id);
                prevUnknown = false;
            } else if (byteFallback) {
                for (byte b : s.substring(start[i], start[i] + len[i]).getBytes(StandardCharsets.UTF_8)) {
                    out.add(vocab.byteId(b));
                }
            } else if (!prevUnknown) {
                if (vocab.unk < 0) {
                    throw new TokenizerException("tokenizer: text holds a character outside the vocabulary ("
                            + s.substring(start[i], start[i] + len[i]) + ") and the vocabulary has neither byte tokens nor an unknown token");
                }
                out.add(vocab.unk);
                prevUnknown = true;
            }
        }
    }

    private void tryAddBigram(String s, int[] start, int[] len, int left, int right, LongHeap queue) {
        if (left < 0 || right < 0) {
            return;
        }
        int id = vocab.id(s, start[left], start[left] + len[left] + len[right]);
        if (id >= 0) {
            queue.push(LongHeap.key(mergeRank[id], left));
        }
    }

    @Override
    public byte[] decodeBytes(int id) {
        return decoded[id];
    }

    @Override
    public boolean stripsLeadingSpace() {
        return addSpacePrefix;
    }
}
