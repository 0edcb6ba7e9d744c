package dev.jllm.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * SentencePiece BPE as llama.cpp runs it for {@code tokenizer.ggml.model = llama} (Llama 1/2, Mistral,
 * Mixtral): spaces become {@code ▁}, a space is prefixed to text that begins the input or follows a
 * special token, adjacent symbols merge best-score first (ties: leftmost) while the merged text is a
 * token, and symbols left over fall back to {@code <0xNN>} byte tokens, or to one unknown token per run
 * of unknown characters when the vocabulary has no byte tokens.
 *
 * <p>The text is cut where no token can span the cut (two characters never side by side in a token);
 * each chunk merges on its own, its symbols in primitive arrays as a linked list and the candidate pairs
 * in a heap of longs: O(n log n). One- and two-character texts are found in direct tables, longer ones
 * in the {@link PieceTable}; chunks repeat (words, code), so their ids go through a bounded
 * {@link WordCache}. {@code FastPathReferenceTest} checks all of it against llama.cpp's algorithm
 * written plainly.
 */
final class SpmModel implements TokenizerModel {
    private static final char SPACE_MARK = '\u2581';

    private static final int ALPHABET = 129;   // the small alphabet of the pair tables: ASCII + '▁'
    private static final int CACHE_CHUNKS = 1 << 15;   // slots of the chunk -> ids cache
    private static final int SHORT_CHUNK = 24;          // symbols up to which a scan beats the heap

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
    // "may a token span the cut between chars a and b": chunking the text where no token can
    private final BpeModel.LongIntMap innerPairs;     // (char a << 16 | char b) -> 1 if ab occurs inside a token
    private final boolean[] smallInnerPairs = new boolean[ALPHABET * ALPHABET];   // the same for the small alphabet
    private final long[] innerLeft = new long[1 << 10];    // [65536 bits] char occurs before another inside a token
    private final long[] innerRight = new long[1 << 10];   // [65536 bits] char occurs after another inside a token
    // token ids of one- and two-char texts, so the first merge round needs no string lookup
    private final int[] charId = new int[1 << 16];                       // [65536] id of the one-char token, -1
    private final int[] smallPairId = new int[ALPHABET * ALPHABET];      // [129 * 129] id of the two-char token, -1
    private final BpeModel.LongIntMap pairId;          // (char a << 16 | char b) -> id of the two-char token
    private final WordCache cache = new WordCache(CACHE_CHUNKS);   // chunks of two or more chars -> ids

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
        this.pairId = new BpeModel.LongIntMap(vocab.size());
        java.util.Arrays.fill(charId, -1);
        java.util.Arrays.fill(smallPairId, -1);
        for (int id = 0; id < vocab.size(); id++) {
            String p = vocab.piece(id);
            for (int i = 1; i < p.length(); i++) {
                char a = p.charAt(i - 1);
                char b = p.charAt(i);
                innerPairs.put(((long) a << 16) | b, 1);
                innerLeft[a >>> 6] |= 1L << a;
                innerRight[b >>> 6] |= 1L << b;
                if (small(a) >= 0 && small(b) >= 0) {
                    smallInnerPairs[small(a) * ALPHABET + small(b)] = true;
                }
            }
        }
        for (int id = vocab.size() - 1; id >= 0; id--) {   // descending: the first id wins for duplicate pieces
            String p = vocab.piece(id);
            if (p.length() == 1) {
                charId[p.charAt(0)] = id;
            } else if (p.length() == 2 && small(p.charAt(0)) >= 0 && small(p.charAt(1)) >= 0) {
                smallPairId[small(p.charAt(0)) * ALPHABET + small(p.charAt(1))] = id;
            }
        }
        for (int id = 0; id < vocab.size(); id++) {
            String p = vocab.piece(id);
            if (p.length() == 2 && !Character.isSurrogate(p.charAt(0)) && !Character.isSurrogate(p.charAt(1))
                    && pairId.get(((long) p.charAt(0) << 16) | p.charAt(1)) < 0) {
                pairId.put(((long) p.charAt(0) << 16) | p.charAt(1), id);
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

    /** Index of c in the small alphabet (ASCII and '▁'), or -1. */
    private static int small(char c) {
        return c < 128 ? c : c == SPACE_MARK ? 128 : -1;
    }

    @Override
    public void encode(String fragment, boolean atTextStart, boolean afterSpecial, IntList out) {
        boolean prefix = addSpacePrefix && afterSpecial;
        int n = fragment.length() + (prefix ? 1 : 0);
        if (n == 0) {
            return;
        }
        char[] s = new char[n];   // [n] the text with ' ' -> '▁' and the space prefix
        if (prefix) {
            s[0] = SPACE_MARK;
        }
        fragment.getChars(0, fragment.length(), s, prefix ? 1 : 0);
        for (int i = 0; i < n; i++) {
            if (s[i] == ' ') {
                s[i] = SPACE_MARK;
            }
        }
        // the text is cut into chunks where no token can span the cut (the two characters never stand
        // side by side inside a token): each chunk merges on its own with the same result as the whole
        // text would, in small arrays and a small heap
        Scratch w = new Scratch();
        w.text = new String(s);   // the same text for the chunk cache's keys
        int chunkStart = 0;
        for (int off = 0; off < n; ) {
            int end = off + (Character.isHighSurrogate(s[off]) && off + 1 < n && Character.isLowSurrogate(s[off + 1]) ? 2 : 1);
            if (end == n || !mayJoin(s[end - 1], s[end])) {
                encodeChunkCached(s, chunkStart, end, w, out);
                chunkStart = end;
            }
            off = end;
        }
    }

    /** Per-call work arrays, grown to the longest chunk, and the unknown-run state. */
    private static final class Scratch {
        int[] start = new int[64];   // [n] char offset of each symbol
        int[] len = new int[64];     // [n] chars; 0 = merged away
        int[] prev = new int[64];    // [n]
        int[] next = new int[64];    // [n]
        int[] hash = new int[64];    // [n] String.hashCode of the symbol's text
        int[] id = new int[64];      // [n] token id of the symbol's text, -1 = none (a char outside the vocabulary)
        int[] pairTok = new int[64]; // [n] token id of (symbol, next symbol) when queued
        long[] latest = new long[64];  // [n] key of the live pair starting here, -1 = none
        boolean useHeap;             // the chunk is long: pairs in the heap (else a scan of latest[])
        final LongHeap queue = new LongHeap(64);
        boolean prevUnknown;         // the last symbol emitted was the unknown token
        String text;                 // the call's text (= s), for the chunk cache

        void ensure(int n) {
            if (start.length < n) {
                int c = Math.max(n, start.length * 2);
                start = new int[c];
                len = new int[c];
                prev = new int[c];
                next = new int[c];
                hash = new int[c];
                id = new int[c];
                pairTok = new int[c];
                latest = new long[c];
            }
        }
    }

    /**
     * A chunk through the cache: chunks repeat (words, code, indentation). A chunk that met a character
     * outside a vocabulary without byte tokens is not cached (its unknown token fuses with its neighbours').
     */
    private void encodeChunkCached(char[] s, int from, int to, Scratch w, IntList out) {
        if (to - from < 2) {
            encodeChunk(s, from, to, w, out);
            return;
        }
        int h = WordCache.hash(w.text, from, to);
        if (cache.appendTo(w.text, from, to, h, out)) {
            w.prevUnknown = false;
            return;
        }
        int mark = out.size();
        if (encodeChunk(s, from, to, w, out) || byteFallback) {
            cache.put(w.text, from, to, h, out, mark);
        }
    }

    /** Symbols of s[from, to) (one per code point), merged, emitted; false if a symbol became the unknown token. */
    private boolean encodeChunk(char[] s, int from, int to, Scratch w, IntList out) {
        w.ensure(to - from);
        int n = 0;
        for (int off = from; off < to; n++) {
            int cl = off + 1 < to && Character.isHighSurrogate(s[off]) && Character.isLowSurrogate(s[off + 1]) ? 2 : 1;
            w.start[n] = off;
            w.len[n] = cl;
            w.prev[n] = n - 1;
            w.next[n] = off + cl < to ? n + 1 : -1;
            w.hash[n] = cl == 1 ? s[off] : 31 * s[off] + s[off + 1];
            w.id[n] = cl == 1 ? charId[s[off]] : vocab.id(s, off, off + cl, w.hash[n]);
            off += cl;
        }
        if (n > 1) {
            mergeChunk(s, w, n);
        }
        return emitChunk(s, w, out);
    }

    /** Whether some token holds the two characters side by side. */
    private boolean mayJoin(char a, char b) {
        int ka = small(a);
        int kb = small(b);
        if ((ka | kb) >= 0) {
            return smallInnerPairs[ka * ALPHABET + kb];
        }
        if ((innerLeft[a >>> 6] & (1L << a)) == 0 || (innerRight[b >>> 6] & (1L << b)) == 0) {
            return false;
        }
        return innerPairs.get(((long) a << 16) | b) >= 0;
    }

    /**
     * The merge loop over symbols [0, n): best (rank, leftmost) pair first, as llama.cpp's
     * llm_tokenizer_spm. latest[i] holds the key (rank, i) of the pair starting at symbol i, -1 if none.
     * A short chunk scans latest[] for the smallest key; a long one keeps the keys in a heap too, where
     * an entry is live only while it is still latest[] of its symbol (a merge re-queues the pairs around
     * it), so stale entries are dropped without a lookup.
     */
    private void mergeChunk(char[] s, Scratch w, int n) {
        int[] next = w.next;
        long[] latest = w.latest;
        LongHeap queue = w.queue;
        queue.clear();
        w.useHeap = n > SHORT_CHUNK;
        latest[n - 1] = -1;
        for (int i = 1; i < n; i++) {
            tryAddBigram(s, w, i - 1, i);
        }
        if (!w.useHeap) {
            for (long best; (best = LongHeap.smallestAlong(latest, next)) >= 0; ) {
                mergeAt(s, w, LongHeap.left(best));
            }
            return;
        }
        while (!queue.isEmpty()) {
            long key = queue.pop();
            int left = LongHeap.left(key);
            if (w.len[left] != 0 && latest[left] == key) {   // else a stale entry
                mergeAt(s, w, left);
            }
        }
    }

    /** The live pair at symbol left merges: the right symbol joins it. */
    private void mergeAt(char[] s, Scratch w, int left) {
        int[] len = w.len;
        int[] prev = w.prev;
        int[] next = w.next;
        int right = next[left];
        w.hash[left] = w.hash[left] * POW31[len[right]] + w.hash[right];
        len[left] += len[right];
        len[right] = 0;
        w.latest[right] = -1;
        w.id[left] = w.pairTok[left];
        next[left] = next[right];
        if (next[right] >= 0) {
            prev[next[right]] = left;
        }
        if (prev[left] >= 0) {
            tryAddBigram(s, w, prev[left], left);
        }
        tryAddBigram(s, w, left, next[left]);
    }

    /** Queues (left, right) if their joined text is a token; records it as left's live pair. */
    private void tryAddBigram(char[] s, Scratch w, int left, int right) {
        int id = right < 0 ? -1 : joinedId(s, w, left, right);
        if (id < 0) {
            w.latest[left] = -1;
            return;
        }
        long key = LongHeap.key(mergeRank[id], left);
        w.latest[left] = key;
        w.pairTok[left] = id;
        if (w.useHeap) {
            w.queue.push(key);
        }
    }

    /** Token id of the two symbols' joined text, or -1. */
    private int joinedId(char[] s, Scratch w, int left, int right) {
        int ll = w.len[left];
        int lr = w.len[right];
        if (ll == 1 && lr == 1) {
            char a = s[w.start[left]];
            char b = s[w.start[right]];
            int ka = small(a);
            int kb = small(b);
            if ((ka | kb) >= 0) {
                return smallPairId[ka * ALPHABET + kb];
            }
            return pairId.get(((long) a << 16) | b);
        }
        int n = ll + lr;
        if (n > maxPieceLength) {
            return -1;
        }
        return vocab.id(s, w.start[left], w.start[left] + n, w.hash[left] * POW31[lr] + w.hash[right]);
    }

    /** Ids of the symbols left in a chunk: byte tokens or one unknown token per run for the rest; false if unknown. */
    private boolean emitChunk(char[] s, Scratch w, IntList out) {
        boolean known = true;
        for (int i = 0; i != -1; i = w.next[i]) {
            int id = w.id[i];
            if (id >= 0) {
                out.add(id);
                w.prevUnknown = false;
            } else if (byteFallback) {
                int off = w.start[i];
                int cp = w.len[i] == 2 ? Character.toCodePoint(s[off], s[off + 1]) : s[off];
                addUtf8Bytes(cp, out);
            } else if (!w.prevUnknown) {
                if (vocab.unk < 0) {
                    throw new TokenizerException("tokenizer: text holds a character outside the vocabulary ("
                            + new String(s, w.start[i], w.len[i]) + ") and the vocabulary has neither byte tokens nor an unknown token");
                }
                out.add(vocab.unk);
                w.prevUnknown = true;
                known = false;
            } else {
                known = false;
            }
        }
        return known;
    }

    /** The {@code <0xNN>} tokens of a code point's UTF-8 bytes (a lone surrogate is '?', as String.getBytes). */
    private void addUtf8Bytes(int cp, IntList out) {
        if (cp < 0x80) {
            out.add(vocab.byteId(cp));
        } else if (cp < 0x800) {
            out.add(vocab.byteId(0xC0 | cp >> 6));
            out.add(vocab.byteId(0x80 | cp & 0x3F));
        } else if (Character.isSurrogate((char) cp) && cp < 0x10000) {
            out.add(vocab.byteId('?'));
        } else if (cp < 0x10000) {
            out.add(vocab.byteId(0xE0 | cp >> 12));
            out.add(vocab.byteId(0x80 | cp >> 6 & 0x3F));
            out.add(vocab.byteId(0x80 | cp & 0x3F));
        } else {
            out.add(vocab.byteId(0xF0 | cp >> 18));
            out.add(vocab.byteId(0x80 | cp >> 12 & 0x3F));
            out.add(vocab.byteId(0x80 | cp >> 6 & 0x3F));
            out.add(vocab.byteId(0x80 | cp & 0x3F));
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
