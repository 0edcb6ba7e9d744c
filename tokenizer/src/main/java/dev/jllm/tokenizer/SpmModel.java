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
    private final int maxPieceLength;   // chars of the longest token
    private static final int[] POW31 = new int[1025];   // [1025] 31^k, int arithmetic as String.hashCode
    static {
        POW31[0] = 1;
        for (int k = 1; k < POW31.length; k++) {
            POW31[k] = POW31[k - 1] * 31;
        }
    }
    private final BpeModel.LongIntMap innerPairs;
    private final boolean[] asciiPairs = new boolean[128 * 128];   // innerPairs for two ASCII chars   // (char a << 16 | char b) present if ab occurs inside a token

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
        int maxLen = 2;
        for (int id = 0; id < vocab.size(); id++) {
            maxLen = Math.max(maxLen, vocab.piece(id).length());
        }
        this.maxPieceLength = Math.min(maxLen, POW31.length - 1);
        this.innerPairs = new BpeModel.LongIntMap(vocab.size() * 4);
        for (int id = 0; id < vocab.size(); id++) {
            String p = vocab.piece(id);
            for (int i = 1; i < p.length(); i++) {
                char a = p.charAt(i - 1);
                char b = p.charAt(i);
                innerPairs.put(((long) a << 16) | b, 1);
                if ((a | b) < 128) {
                    asciiPairs[a << 7 | b] = true;
                }
            }
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
        // the text is cut into chunks where no token can span the cut (the two characters never stand
        // side by side inside a token): each chunk merges on its own with the same result as the whole
        // text would, in small arrays and a small heap
        Scratch w = new Scratch();
        boolean[] prevUnknown = {false};
        int chunkStart = 0;
        for (int off = 0; off < s.length(); ) {
            int cl = Character.charCount(s.codePointAt(off));
            int end = off + cl;
            if (end == s.length() || !mayJoin(s.charAt(end - 1), s.charAt(end))) {
                encodeChunk(s, chunkStart, end, w, out, prevUnknown);
                chunkStart = end;
            }
            off = end;
        }
    }

    /** Per-call work arrays, grown to the longest chunk. */
    private static final class Scratch {
        int[] start = new int[64];   // [n] char offset of each symbol
        int[] len = new int[64];     // [n] chars; 0 = merged away
        int[] prev = new int[64];    // [n]
        int[] next = new int[64];    // [n]
        int[] hash = new int[64];    // [n] String.hashCode of the symbol's text
        final LongHeap queue = new LongHeap(64);

        void ensure(int n) {
            if (start.length < n) {
                int c = Math.max(n, start.length * 2);
                start = new int[c];
                len = new int[c];
                prev = new int[c];
                next = new int[c];
                hash = new int[c];
            }
        }
    }

    /** Symbols of s[from, to) (one per code point), merged, emitted. */
    private void encodeChunk(String s, int from, int to, Scratch w, IntList out, boolean[] prevUnknown) {
        w.ensure(to - from);
        int n = 0;
        for (int off = from; off < to; n++) {
            int cl = Character.charCount(s.codePointAt(off));
            w.start[n] = off;
            w.len[n] = cl;
            w.prev[n] = n - 1;
            w.next[n] = off + cl < to ? n + 1 : -1;
            w.hash[n] = cl == 1 ? s.charAt(off) : 31 * s.charAt(off) + s.charAt(off + 1);
            off += cl;
        }
        mergeChunk(s, w, n);
        emitChunk(s, w.start, w.len, w.next, 0, out, prevUnknown);
    }

    /** Whether some token holds the two characters side by side. */
    private boolean mayJoin(char a, char b) {
        if ((a | b) < 128) {
            return asciiPairs[a << 7 | b];
        }
        return innerPairs.get(((long) a << 16) | b) >= 0;
    }

    /** The merge loop over symbols [0, n) of the scratch arrays. */
    private void mergeChunk(String s, Scratch w, int n) {
        int[] start = w.start;
        int[] len = w.len;
        int[] prev = w.prev;
        int[] next = w.next;
        int[] hash = w.hash;
        LongHeap queue = w.queue;
        queue.clear();
        for (int i = 1; i < n; i++) {
            tryAddBigram(s, w, i - 1, i);
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
            int id = pairId(s, w, left, right);
            if (id < 0 || mergeRank[id] != LongHeap.priority(key)) {
                continue;   // stale entry: the pair changed since it was queued
            }
            hash[left] = hash[left] * POW31[len[right]] + hash[right];
            len[left] += len[right];
            len[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            tryAddBigram(s, w, prev[left], left);
            tryAddBigram(s, w, left, next[left]);
        }
    }

    /** Token id of the two symbols' joined text, or -1. */
    private int pairId(String s, Scratch w, int left, int right) {
        int n = w.len[left] + w.len[right];
        if (n > maxPieceLength) {
            return -1;
        }
        return vocab.id(s, w.start[left], w.start[left] + n, w.hash[left] * POW31[w.len[right]] + w.hash[right]);
    }

    /** Ids of the symbols left in a chunk; the unknown-token run state carries across chunks. */
    private void emitChunk(String s, int[] start, int[] len, int[] next, int from, IntList out, boolean[] prevUnknown) {
        for (int i = from; i != -1; i = next[i]) {
            int id = vocab.id(s, start[i], start[i] + len[i]);
            if (id >= 0) {
                out.add(id);
                prevUnknown[0] = false;
            } else if (byteFallback) {
                for (byte b : s.substring(start[i], start[i] + len[i]).getBytes(StandardCharsets.UTF_8)) {
                    out.add(vocab.byteId(b));
                }
            } else if (!prevUnknown[0]) {
                if (vocab.unk < 0) {
                    throw new TokenizerException("tokenizer: text holds a character outside the vocabulary ("
                            + s.substring(start[i], start[i] + len[i]) + ") and the vocabulary has neither byte tokens nor an unknown token");
                }
                out.add(vocab.unk);
                prevUnknown[0] = true;
            }
        }
    }

    private void tryAddBigram(String s, Scratch w, int left, int right) {
        if (left < 0 || right < 0) {
            return;
        }
        int id = pairId(s, w, left, right);
        if (id >= 0) {
            w.queue.push(LongHeap.key(mergeRank[id], left));
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
