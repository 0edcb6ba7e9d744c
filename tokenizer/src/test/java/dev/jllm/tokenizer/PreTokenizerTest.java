package dev.jllm.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The hand-written GPT-2 / Llama 3 splitters against the regex reference, and named examples. */
class PreTokenizerTest {
    /** Characters that exercise every branch: contractions, letters, digits, spaces, newlines, symbols, CJK, emoji. */
    private static final String ALPHABET = "aZé'sStTrReEvVmMlLdD 0123\t\n\r\u00a0\u3000\u2028.,!?(){}<>-_=+*/\\\"#$%^&|~`中文字한국어½²🦙😁\u0301\u200d";

    private static List<String> corpus() throws Exception {
        List<String> texts = new ArrayList<>();
        Path inp = SharedData.tokenizerTests().resolve("vocab/ggml-vocab-gpt-2.gguf.inp");
        if (Files.isRegularFile(inp)) {
            texts.addAll(SharedData.readInputs(inp));
        }
        Random rnd = new Random(7);
        int[] cps = ALPHABET.codePoints().toArray();
        for (int i = 0; i < 3000; i++) {
            StringBuilder sb = new StringBuilder();
            for (int n = rnd.nextInt(24); n > 0; n--) {
                sb.appendCodePoint(cps[rnd.nextInt(cps.length)]);
            }
            texts.add(sb.toString());
        }
        texts.add(dev.jllm.tokenizer.bench.EncodeBench.sample(64 << 10));
        return texts;
    }

    @Test
    void fastSplittersMatchTheRegexes() throws Exception {
        for (String name : new java.util.TreeSet<>(PreTokenizer.BY_NAME.keySet())) {
            PreTokenizer fast = PreTokenizer.forGgufName(name);
            PreTokenizer reference = fast.referenceOnly(PreTokenizer.BY_NAME.get(name));
            for (String text : corpus()) {
                assertEquals(reference.words(text), fast.words(text), name + " on " + LlamaCppVocabTest.escape(text));
            }
        }
    }

    /** Random code points from all of Unicode (any plane, unassigned ones, lone surrogates), mixed with ASCII. */
    @Test
    void fastSplittersMatchTheRegexesOnRandomUnicode() {
        Random rnd = new Random(11);
        for (String name : new java.util.TreeSet<>(PreTokenizer.BY_NAME.keySet())) {
            PreTokenizer fast = PreTokenizer.forGgufName(name);
            PreTokenizer reference = fast.referenceOnly(PreTokenizer.BY_NAME.get(name));
            for (int i = 0; i < 1500; i++) {
                StringBuilder sb = new StringBuilder();
                for (int n = rnd.nextInt(31); n > 0; n--) {
                    switch (rnd.nextInt(4)) {
                        case 0 -> sb.appendCodePoint(rnd.nextInt(0x110000));
                        case 1 -> sb.append((char) rnd.nextInt(0x10000));
                        default -> sb.append((char) (rnd.nextBoolean() ? ' ' + rnd.nextInt(95) : "\t\n\r \u00a0'".charAt(rnd.nextInt(6))));
                    }
                }
                String text = sb.toString();
                assertEquals(reference.words(text), fast.words(text), name + " on " + LlamaCppVocabTest.escape(text));
            }
        }
    }

    /** Llama 3's tokenizer.json Split regex as published (case-insensitive group) = llama.cpp's adaptation. */
    @Test
    void hfLlama3RegexMatchesTheFastSplitter() throws Exception {
        String hf = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
        PreTokenizer fromJson = new PreTokenizer("tokenizer.json", List.of(hf));
        PreTokenizer fast = PreTokenizer.forGgufName("llama3");
        for (String text : corpus()) {
            assertEquals(fromJson.words(text), fast.words(text), LlamaCppVocabTest.escape(text));
        }
    }

    @Test
    void llama3Examples() {
        PreTokenizer p = PreTokenizer.forGgufName("llama-bpe");
        assertEquals(List.of("Hello", ",", " world", "!"), p.words("Hello, world!"));
        assertEquals(List.of("I", "'M", " fine", " ", " ok"), p.words("I'M fine  ok"));
        assertEquals(List.of("123", "456", "7"), p.words("1234567"));
        assertEquals(List.of("a", "  \n\n", "b"), p.words("a  \n\nb"));
        assertEquals(List.of("x", "   "), p.words("x   "));
        assertEquals(List.of(" {\n", "x"), p.words(" {\nx"));   // trailing newlines join the symbols
    }

    @Test
    void gpt2Examples() {
        PreTokenizer p = PreTokenizer.forGgufName("gpt-2");
        assertEquals(List.of("Hello", ",", " y", "'", "all", "!"), p.words("Hello, y'all!"));   // no 'a contraction
        assertEquals(List.of("it", "'s", " ok"), p.words("it's ok"));
        assertEquals(List.of("  ", " Hello"), p.words("   Hello"));
        assertEquals(List.of("\t", "x"), p.words("\tx"));
    }

    @Test
    void unknownPreTokenizerIsAClearError() {
        TokenizerException e = assertThrows(TokenizerException.class, () -> PreTokenizer.forGgufName("no-such-pre"));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("no-such-pre"), e.getMessage());
    }
}
