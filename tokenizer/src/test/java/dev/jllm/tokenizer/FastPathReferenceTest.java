package dev.jllm.tokenizer;

import dev.jllm.gguf.GgufFile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The fast merge loops (SPM chunking, pair tables, live-pair heap; byte-level BPE scratch arrays and
 * word / chunk caches, cold and warm) against plain references written the straight way: llama.cpp's llm_tokenizer_spm with
 * strings and a priority queue, and textbook BPE (merge the lowest-ranked adjacent pair, leftmost, until
 * none is left) over the regex pre-tokenizer. Texts: random strings over each vocabulary's own characters
 * plus spaces, digits, newlines and characters it lacks, at awkward lengths, long runs over tiny
 * alphabets (words and chunks on both sides of the scan / heap threshold), and slices of the benchmark
 * text.
 */
class FastPathReferenceTest {
    private static final int RANDOM_TEXTS = 400;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"tokenizer-tests/vocab/ggml-vocab-llama-spm.gguf", "tokenizer-tests/vocab/ggml-vocab-phi-3.gguf",
            "tokenizer-tests/vocab/ggml-vocab-baichuan.gguf", "models/stories260K/stories260K.gguf",
            "models/tinystories656K/TinyStories-656K-f32.gguf"})
    void spmMatchesLlamaCppAlgorithmWrittenPlainly(String file) throws IOException {
        Path p = SharedData.dir().resolve(file);
        Assumptions.assumeTrue(Files.isRegularFile(p), () -> "vocabulary file not present in ../shared: " + p);
        Tokenizer t = Tokenizers.fromGguf(p);
        Assumptions.assumeTrue(t.model() instanceof SpmModel, file + " is not an SPM vocabulary");
        SpmModel m = (SpmModel) t.model();
        for (String text : texts(t.vocabulary(), 11)) {
            int[] want = spmReference(t.vocabulary(), text, m.stripsLeadingSpace());
            for (int pass = 0; pass < 2; pass++) {   // chunk cache cold (for this text), then warm
                IntList got = new IntList(16);
                m.encode(text, true, true, got);
                assertArrayEquals(want, got.toArray(), file + " (pass " + pass + ") on " + LlamaCppVocabTest.escape(text));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gpt-2", "falcon", "starcoder", "deepseek-llm", "deepseek-coder", "mpt", "refact", "gpt-neox"})
    void byteLevelBpeMatchesTextbookBpeAndTheCacheChangesNothing(String name) throws IOException {
        Path p = SharedData.tokenizerTests().resolve("vocab/ggml-vocab-" + name + ".gguf");
        Assumptions.assumeTrue(Files.isRegularFile(p), () -> "vocabulary file not present in ../shared: " + p);
        Map<String, Integer> ranks = new HashMap<>();
        String pre;
        try (GgufFile f = GgufFile.open(p)) {
            List<String> merges = f.getStringArray("tokenizer.ggml.merges");
            for (int r = 0; r < merges.size(); r++) {
                ranks.putIfAbsent(merges.get(r), r);
            }
            pre = f.findString("tokenizer.ggml.pre").orElse("default");
        }
        Tokenizer t = Tokenizers.fromGguf(p);
        BpeModel m = (BpeModel) t.model();
        PreTokenizer regexOnly = PreTokenizer.forGgufName(pre).referenceOnly(PreTokenizer.BY_NAME.get(pre));
        for (String text : texts(t.vocabulary(), 13)) {
            int[] want = bpeReference(t.vocabulary(), ranks, regexOnly, text);
            IntList uncached = new IntList(16);
            m.encodeUncached(text, true, uncached);
            assertArrayEquals(want, uncached.toArray(), name + " on " + LlamaCppVocabTest.escape(text));
            for (int pass = 0; pass < 2; pass++) {   // cold, then warm word cache
                IntList cached = new IntList(16);
                m.encode(text, true, true, cached);
                assertArrayEquals(want, cached.toArray(), name + " (word cache, pass " + pass + ") on " + LlamaCppVocabTest.escape(text));
            }
        }
    }

    /** Random texts over the vocabulary's characters, spaces, newlines, digits and foreign characters; benchmark slices. */
    static List<String> texts(Vocabulary v, long seed) {
        Random rnd = new Random(seed);
        List<Integer> alphabet = new ArrayList<>();
        for (int id = 0; id < v.size(); id += 1 + rnd.nextInt(7)) {
            v.piece(id).codePoints().limit(3).forEach(alphabet::add);
        }
        " \n\t  0123456789'.,é中文🦙😁\u2581".codePoints().forEach(alphabet::add);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < RANDOM_TEXTS; i++) {
            StringBuilder sb = new StringBuilder();
            for (int n = rnd.nextInt(i % 5 == 0 ? 97 : 23); n > 0; n--) {
                sb.appendCodePoint(alphabet.get(rnd.nextInt(alphabet.size())));
            }
            out.add(sb.toString());
        }
        // long runs over tiny alphabets: chunks and words far longer than the scan / heap threshold
        for (String letters : List.of("a", "ab", "eth ", "01", " \n", "中文")) {
            for (int len : new int[] {23, 24, 25, 61, 257}) {
                StringBuilder sb = new StringBuilder();
                for (int k = 0; k < len; k++) {
                    sb.append(letters.charAt(rnd.nextInt(letters.length())));
                }
                out.add(sb.toString());
            }
        }
        String bench = dev.jllm.tokenizer.bench.EncodeBench.sample(48 << 10);
        for (int from = 0; from + 4001 < bench.length(); from += 9973) {
            out.add(bench.substring(from, from + 4001));
        }
        return out;
    }

    private record Bigram(int left, int right, float score, int size) {
    }

    /** llama.cpp's llm_tokenizer_spm::tokenize, written plainly: one symbol per code point, strings, a priority queue. */
    static int[] spmReference(Vocabulary v, String text, boolean addSpacePrefix) {
        String s = ((addSpacePrefix ? " " : "") + text).replace(' ', '\u2581');
        List<int[]> sym = new ArrayList<>();   // {start, chars, prev, next}
        for (int off = 0; off < s.length(); ) {
            int n = Character.charCount(s.codePointAt(off));
            sym.add(new int[] {off, n, sym.size() - 1, off + n < s.length() ? sym.size() + 1 : -1});
            off += n;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.score != b.score ? Float.compare(b.score, a.score)
                : Integer.compare(a.left, b.left));
        for (int i = 1; i < sym.size(); i++) {
            addBigram(v, s, sym, queue, i - 1, i);
        }
        while (!queue.isEmpty()) {
            Bigram b = queue.poll();
            int[] l = sym.get(b.left);
            int[] r = sym.get(b.right);
            if (l[1] == 0 || r[1] == 0 || l[1] + r[1] != b.size) {
                continue;
            }
            l[1] += r[1];
            r[1] = 0;
            l[3] = r[3];
            if (r[3] >= 0) {
                sym.get(r[3])[2] = b.left;
            }
            addBigram(v, s, sym, queue, l[2], b.left);
            addBigram(v, s, sym, queue, b.left, l[3]);
        }
        List<Integer> out = new ArrayList<>();
        boolean prevUnknown = false;
        for (int i = 0; i != -1 && !sym.isEmpty(); i = sym.get(i)[3]) {
            String piece = s.substring(sym.get(i)[0], sym.get(i)[0] + sym.get(i)[1]);
            int id = v.id(piece);
            if (id >= 0) {
                out.add(id);
                prevUnknown = false;
            } else if (v.hasAllByteTokens()) {
                for (byte x : piece.getBytes(StandardCharsets.UTF_8)) {
                    out.add(v.byteId(x));
                }
            } else if (!prevUnknown) {
                out.add(v.unk);
                prevUnknown = true;
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private static void addBigram(Vocabulary v, String s, List<int[]> sym, PriorityQueue<Bigram> queue, int left, int right) {
        if (left < 0 || right < 0) {
            return;
        }
        String text = s.substring(sym.get(left)[0], sym.get(left)[0] + sym.get(left)[1] + sym.get(right)[1]);
        int id = v.id(text);
        if (id >= 0) {
            queue.add(new Bigram(left, right, v.score(id), text.length()));
        }
    }

    /** Textbook byte-level BPE: per regex word, merge the lowest-ranked adjacent pair (leftmost on ties) until none. */
    static int[] bpeReference(Vocabulary v, Map<String, Integer> ranks, PreTokenizer regexOnly, String text) {
        List<Integer> out = new ArrayList<>();
        for (String word : regexOnly.words(text)) {
            List<String> syms = new ArrayList<>();
            for (char c : ByteLevel.encode(word.getBytes(StandardCharsets.UTF_8)).toCharArray()) {
                syms.add(String.valueOf(c));
            }
            while (true) {
                int best = -1;
                int bestRank = Integer.MAX_VALUE;
                for (int i = 0; i + 1 < syms.size(); i++) {
                    Integer r = ranks.get(syms.get(i) + " " + syms.get(i + 1));
                    if (r != null && r < bestRank) {
                        best = i;
                        bestRank = r;
                    }
                }
                if (best < 0) {
                    break;
                }
                syms.set(best, syms.get(best) + syms.remove(best + 1));
            }
            for (String sym : syms) {
                int id = v.id(sym);
                assertEquals(true, id >= 0, "merge result '" + sym + "' is no token: the reference does not cover it");
                out.add(id);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
