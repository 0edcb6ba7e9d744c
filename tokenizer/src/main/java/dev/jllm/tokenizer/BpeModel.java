package dev.jllm.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Rank-ordered BPE over a merge list, in two flavours:
 * <ul>
 * <li>byte-level (GPT-2, Llama 3, ...; {@code tokenizer.ggml.model = gpt2}): the pre-tokenizer cuts
 * words, each word's UTF-8 bytes become GPT-2 byte characters, one symbol per byte;</li>
 * <li>character-level (HF {@code tokenizer.json} BPE with a {@code ▁} normalizer and byte fallback, e.g.
 * TinyStories): one symbol per code point, unknown characters fall back to {@code <0xNN>} tokens or to
 * the unknown token.</li>
 * </ul>
 * Merging: the pair with the lowest merge rank merges first (ties: leftmost), symbols in a linked list,
 * candidate pairs in a heap of longs: O(n log n) per word. Words repeat, so their ids go through a
 * bounded {@link WordCache}; {@code FastPathReferenceTest} checks merges and cache against textbook BPE.
 */
final class BpeModel implements TokenizerModel {
    private static final int CACHE_WORDS = 1 << 15;   // slots of the pre-token -> ids cache
    private static final int SHORT_WORD = 24;          // symbols up to which a scan beats the heap
    private static final int[] EMPTY = new int[0];

    private final Vocabulary vocab;
    private final PreTokenizer pre;          // null: the whole fragment is one word
    private final boolean byteLevel;
    private final boolean ignoreMerges;      // a word that is a token is taken whole (Llama 3)
    private final Normalizer normalizer;     // character-level only
    private final boolean byteFallback;
    private final boolean fuseUnknown;
    private final boolean stripLeadingSpace;
    private final boolean addPrefixSpace;    // byte-level: HF ByteLevel(add_prefix_space)

    // merge table: pair of symbol ids -> rank; rank -> symbol id of the merged text
    private final LongIntMap pairRank;
    private final int[] mergedSymbol;        // [n_merges]
    private final String[] extraSymbols;     // merge results that are no token: symbol ids n_vocab + i
    private final int[] byteSymbol = new int[256];   // byte-level: symbol id of each byte's character
    private final byte[][] decoded;          // [n_vocab][*]
    private final int[] bytePairRank = new int[1 << 16];   // [256 * 256] byte-level: rank of the pair of byte symbols, -1
    private final WordCache cache = new WordCache(CACHE_WORDS);

    /** Text normalization of the character-level flavour (HF normalizers / Metaspace). */
    interface Normalizer {
        String apply(String fragment, boolean atTextStart);
    }

    private BpeModel(Vocabulary vocab, List<String[]> merges, PreTokenizer pre, boolean byteLevel, boolean ignoreMerges,
                     Normalizer normalizer, boolean byteFallback, boolean fuseUnknown, boolean stripLeadingSpace,
                     boolean addPrefixSpace) {
        this.vocab = vocab;
        this.pre = pre;
        this.byteLevel = byteLevel;
        this.ignoreMerges = ignoreMerges;
        this.normalizer = normalizer;
        this.byteFallback = byteFallback;
        this.fuseUnknown = fuseUnknown;
        this.stripLeadingSpace = stripLeadingSpace;
        this.addPrefixSpace = addPrefixSpace;
        Map<String, Integer> extra = new HashMap<>();
        List<String> extraList = new ArrayList<>();
        this.pairRank = new LongIntMap(merges.size() * 2);
        this.mergedSymbol = new int[merges.size()];
        for (int rank = 0; rank < merges.size(); rank++) {
            String[] m = merges.get(rank);
            int l = symbolId(m[0], extra, extraList);
            int r = symbolId(m[1], extra, extraList);
            long key = ((long) l << 32) | (r & 0xffffffffL);
            if (pairRank.get(key) < 0) {   // first (best) rank wins for duplicate merges
                pairRank.put(key, rank);
            }
            mergedSymbol[rank] = symbolId(m[0] + m[1], extra, extraList);
        }
        this.extraSymbols = extraList.toArray(new String[0]);
        for (int b = 0; b < 256; b++) {
            byteSymbol[b] = symbolId(String.valueOf(ByteLevel.BYTE_TO_CHAR[b]), extra, extraList);
        }
        for (int ab = 0; ab < bytePairRank.length; ab++) {
            int l = byteSymbol[ab >>> 8];
            int r = byteSymbol[ab & 0xff];
            bytePairRank[ab] = l < vocab.size() && r < vocab.size() ? rank(l, r) : -1;
        }
        this.decoded = new byte[vocab.size()][];
        for (int id = 0; id < vocab.size(); id++) {
            decoded[id] = byteLevel ? byteLevelBytes(vocab, id) : SpmModel.pieceBytes(vocab, id);
        }
    }

    static BpeModel byteLevel(Vocabulary vocab, List<String[]> merges, PreTokenizer pre, boolean ignoreMerges,
                              boolean addPrefixSpace) {
        return new BpeModel(vocab, merges, pre, true, ignoreMerges, null, false, false, false, addPrefixSpace);
    }

    static BpeModel characterLevel(Vocabulary vocab, List<String[]> merges, PreTokenizer pre, boolean ignoreMerges,
                                   Normalizer normalizer, boolean byteFallback, boolean fuseUnknown,
                                   boolean stripLeadingSpace) {
        return new BpeModel(vocab, merges, pre, false, ignoreMerges, normalizer, byteFallback, fuseUnknown,
                stripLeadingSpace, false);
    }

    private int symbolId(String text, Map<String, Integer> extra, List<String> extraList) {
        int id = vocab.id(text);
        if (id >= 0) {
            return id;
        }
        return extra.computeIfAbsent(text, t -> {
            extraList.add(t);
            return vocab.size() + extraList.size() - 1;
        });
    }

    private static byte[] byteLevelBytes(Vocabulary vocab, int id) {
        return switch (vocab.type(id)) {
            case NORMAL, UNDEFINED, BYTE -> ByteLevel.decode(vocab.piece(id));
            case USER_DEFINED -> vocab.piece(id).getBytes(StandardCharsets.UTF_8);
            default -> new byte[0];
        };
    }

    /** Splits "a b" merge lines (GGUF and older tokenizer.json). */
    static List<String[]> parseMerges(List<String> lines, String field) {
        List<String[]> out = new ArrayList<>(lines.size());
        for (String line : lines) {
            int sp = line.indexOf(' ', 1);
            if (sp < 0) {
                throw new TokenizerException(field + ": merge '" + line + "' is not two tokens separated by a space");
            }
            out.add(new String[] {line.substring(0, sp), line.substring(sp + 1)});
        }
        return out;
    }

    @Override
    public void encode(String fragment, boolean atTextStart, boolean afterSpecial, IntList out) {
        String text = fragment;
        if (normalizer != null) {
            text = normalizer.apply(text, atTextStart);
        }
        if (addPrefixSpace && atTextStart && !text.isEmpty() && text.charAt(0) != ' ') {
            text = " " + text;
        }
        if (text.isEmpty()) {
            return;
        }
        Scratch w = new Scratch();
        if (pre == null) {
            encodeWord(text, w, out);
            return;
        }
        int start = 0;
        for (int end : pre.split(text)) {
            int h = WordCache.hash(text, start, end);
            if (!cache.appendTo(text, start, end, h, out)) {
                int mark = out.size();
                encodeWord(text.substring(start, end), w, out);
                cache.put(text, start, end, h, out, mark);
            }
            start = end;
        }
    }

    /** The same ids without the word cache: the reference the cache is tested against. */
    void encodeUncached(String fragment, boolean atTextStart, IntList out) {
        String text = normalizer != null ? normalizer.apply(fragment, atTextStart) : fragment;
        if (addPrefixSpace && atTextStart && !text.isEmpty() && text.charAt(0) != ' ') {
            text = " " + text;
        }
        Scratch w = new Scratch();
        if (pre == null) {
            if (!text.isEmpty()) {
                encodeWord(text, w, out);
            }
            return;
        }
        int start = 0;
        for (int end : pre.split(text)) {
            encodeWord(text.substring(start, end), w, out);
            start = end;
        }
    }

    /** Per-call work arrays of the merge loop, grown to the longest word. */
    private static final class Scratch {
        int[] sym = new int[64];        // [n] symbol id of each position; -1 = no symbol (unknown char)
        int[] prev = new int[64];       // [n]
        int[] next = new int[64];       // [n]
        long[] latest = new long[64];   // [n] heap key of the live pair starting here; -1 = none or merged away
        byte[] bytes;                   // [n] byte-level: the word's UTF-8 bytes (one per symbol); null otherwise
        boolean useHeap;                // the word is long: pairs in the heap (else a scan of latest[])
        final LongHeap queue = new LongHeap(64);

        void ensure(int n) {
            if (sym.length < n) {
                int c = Math.max(n, sym.length * 2);
                sym = new int[c];
                prev = new int[c];
                next = new int[c];
                latest = new long[c];
            }
        }
    }

    /** BPE of one word. */
    private void encodeWord(String word, Scratch w, IntList out) {
        if (ignoreMerges) {
            int whole = vocab.id(byteLevel ? ByteLevel.encode(word.getBytes(StandardCharsets.UTF_8)) : word);
            if (whole >= 0) {
                out.add(whole);
                return;
            }
        }
        int n = byteLevel ? byteSymbols(word, w) : charSymbols(word, w);
        if (n == 0) {
            return;
        }
        merge(w, n);
        for (int i = 0; i != -1; i = w.next[i]) {
            emit(w.sym[i], out);
        }
    }

    /**
     * Merges w.sym[0, n), n > 0: lowest rank first, ties leftmost. latest[i] holds the key (rank, i) of the
     * pair starting at position i, -1 if none. A short word scans latest[] for the smallest key; a long
     * one keeps the keys in a heap too, where an entry is live only while it is still latest[] of its
     * position (every merge re-queues the pairs around it, a merged-away position has none), so stale
     * entries are dropped without a rank lookup.
     */
    private void merge(Scratch w, int n) {
        int[] prev = w.prev;
        int[] next = w.next;
        long[] latest = w.latest;
        LongHeap queue = w.queue;
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        queue.clear();
        w.useHeap = n > SHORT_WORD;
        latest[n - 1] = -1;
        if (w.bytes != null) {   // byte-level word: the first pairs come from the byte-pair table
            for (int i = 1; i < n; i++) {
                int rank = bytePairRank[(w.bytes[i - 1] & 0xff) << 8 | (w.bytes[i] & 0xff)];
                latest[i - 1] = rank < 0 ? -1 : LongHeap.key(rank, i - 1);
                if (rank >= 0 && w.useHeap) {
                    queue.push(latest[i - 1]);
                }
            }
        } else {
            for (int i = 1; i < n; i++) {
                addPair(w, i - 1, i);
            }
        }
        if (!w.useHeap) {
            for (long best; (best = LongHeap.smallestAlong(latest, next)) >= 0; ) {
                mergeAt(w, best);
            }
            return;
        }
        while (!queue.isEmpty()) {
            long key = queue.pop();
            if (latest[LongHeap.left(key)] == key) {   // else a stale entry
                mergeAt(w, key);
            }
        }
    }

    /** Merges the live pair of this key: the right symbol joins the left one. */
    private void mergeAt(Scratch w, long key) {
        int[] prev = w.prev;
        int[] next = w.next;
        int left = LongHeap.left(key);
        int right = next[left];
        w.sym[left] = mergedSymbol[LongHeap.priority(key)];
        w.latest[right] = -1;
        next[left] = next[right];
        if (next[right] >= 0) {
            prev[next[right]] = left;
        }
        if (prev[left] >= 0) {
            addPair(w, prev[left], left);
        }
        addPair(w, left, next[left]);
    }

    private int rank(int l, int r) {
        if (l < 0 || r < 0) {
            return -1;
        }
        return pairRank.get(((long) l << 32) | (r & 0xffffffffL));
    }

    /** Queues (left, right) if they have a merge; records it as left's live pair. */
    private void addPair(Scratch w, int left, int right) {
        int rank = right < 0 ? -1 : rank(w.sym[left], w.sym[right]);
        if (rank < 0) {
            w.latest[left] = -1;
            return;
        }
        long key = LongHeap.key(rank, left);
        w.latest[left] = key;
        if (w.useHeap) {
            w.queue.push(key);
        }
    }

    private void emit(int symbol, IntList out) {
        if (symbol >= 0 && symbol < vocab.size()) {
            out.add(symbol);
        } else if (symbol >= vocab.size()) {
            // a merge result that is no token: llama.cpp falls back to single-byte tokens
            String t = extraSymbols[symbol - vocab.size()];
            for (int i = 0; i < t.length(); i++) {
                int id = t.charAt(i) < 0x80 ? vocab.id(t, i, i + 1) : -1;
                if (id >= 0) {
                    out.add(id);
                }
            }
        }
        // symbol < 0: byte-level character missing from the vocabulary: dropped, as llama.cpp
    }

    /** Byte-level: one symbol per UTF-8 byte of the word into w.sym; returns the count. */
    private int byteSymbols(String word, Scratch w) {
        byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
        w.ensure(bytes.length);
        w.bytes = bytes;
        for (int i = 0; i < bytes.length; i++) {
            int s = byteSymbol[bytes[i] & 0xff];
            w.sym[i] = s < vocab.size() ? s : -1;
        }
        return bytes.length;
    }

    /** Character-level: one symbol per code point (byte / unknown fallback) into w.sym; returns the count. */
    private int charSymbols(String word, Scratch w) {
        int[] sym = initialSymbols(word);
        w.ensure(sym.length);
        w.bytes = null;
        System.arraycopy(sym, 0, w.sym, 0, sym.length);
        return sym.length;
    }

    /** One symbol per code point, with byte / unknown fallback. */
    private int[] initialSymbols(String s) {
        IntList sym = new IntList(s.length());
        boolean prevUnknown = false;
        for (int off = 0; off < s.length(); ) {
            int cl = Character.charCount(s.codePointAt(off));
            int id = vocab.id(s, off, off + cl);
            if (id >= 0) {
                sym.add(id);
                prevUnknown = false;
            } else {
                byte[] bytes = s.substring(off, off + cl).getBytes(StandardCharsets.UTF_8);
                boolean allBytes = byteFallback;
                for (int i = 0; i < bytes.length && allBytes; i++) {
                    allBytes = vocab.byteId(bytes[i]) >= 0;
                }
                if (allBytes) {
                    for (byte b : bytes) {
                        sym.add(vocab.byteId(b));
                    }
                    prevUnknown = false;
                } else if (!(fuseUnknown && prevUnknown)) {
                    if (vocab.unk < 0) {
                        throw new TokenizerException("tokenizer: character '" + s.substring(off, off + cl)
                                + "' is not in the vocabulary and there is no unknown token");
                    }
                    sym.add(vocab.unk);
                    prevUnknown = true;
                }
            }
            off += cl;
        }
        return sym.size() == 0 ? EMPTY : sym.toArray();
    }

    @Override
    public byte[] decodeBytes(int id) {
        return decoded[id];
    }

    @Override
    public boolean stripsLeadingSpace() {
        return stripLeadingSpace;
    }

    /** Open-addressing long -> non-negative int map; get returns -1 when absent. */
    static final class LongIntMap {
        private long[] keys;
        private int[] vals;
        private int mask;
        private int size;

        LongIntMap(int expected) {
            int cap = Integer.highestOneBit(Math.max(16, expected * 2)) << 1;
            keys = new long[cap];
            vals = new int[cap];
            Arrays.fill(vals, -1);
            mask = cap - 1;
        }

        private static int slot(long k) {
            long h = k * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 32));
        }

        int get(long k) {
            int i = slot(k) & mask;
            while (vals[i] >= 0) {
                if (keys[i] == k) {
                    return vals[i];
                }
                i = (i + 1) & mask;
            }
            return -1;
        }

        void put(long k, int v) {
            if ((size + 1) * 2 > keys.length) {
                grow();
            }
            int i = slot(k) & mask;
            while (vals[i] >= 0 && keys[i] != k) {
                i = (i + 1) & mask;
            }
            if (vals[i] < 0) {
                size++;
            }
            keys[i] = k;
            vals[i] = v;
        }

        private void grow() {
            long[] ok = keys;
            int[] ov = vals;
            keys = new long[ok.length * 2];
            vals = new int[ok.length * 2];
            Arrays.fill(vals, -1);
            mask = keys.length - 1;
            size = 0;
            for (int i = 0; i < ok.length; i++) {
                if (ov[i] >= 0) {
                    put(ok[i], ov[i]);
                }
            }
        }
    }
}
