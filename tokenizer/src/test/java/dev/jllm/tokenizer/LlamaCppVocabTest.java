package dev.jllm.tokenizer;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * llama.cpp's tokenizer tests: every {@code .inp}/{@code .out} pair under ../shared/tokenizer-tests
 * (vocab/ggml-vocab-*.gguf and the two real models), encoded without BOS and without parsing special
 * tokens, as llama.cpp's test-tokenizer-0 does. A pair whose vocabulary file is absent is skipped with
 * the reason. Every text is asserted: where llama.cpp itself cannot encode a text (an SPM vocabulary
 * without byte tokens and a character that is no token: llama.cpp aborts), the reference is llama.cpp's
 * ids per representable run from src/test/resources/llamacpp.
 */
class LlamaCppVocabTest {

    static Stream<Arguments> pairs() throws IOException {
        List<Arguments> out = new ArrayList<>();
        for (String sub : List.of("vocab", "models")) {
            Path dir = SharedData.tokenizerTests().resolve(sub);
            if (!Files.isDirectory(dir)) {
                out.add(Arguments.of(sub + " (folder missing)", dir, null));
                continue;
            }
            try (Stream<Path> files = Files.list(dir)) {
                for (Path inp : files.filter(p -> p.getFileName().toString().endsWith(".gguf.inp")).sorted().toList()) {
                    String name = inp.getFileName().toString().replace(".inp", "");
                    Path vocab = sub.equals("vocab") ? dir.resolve(name) : findModel(name);
                    out.add(Arguments.of(name, inp, vocab));
                }
            }
        }
        return out.stream();
    }

    private static Path findModel(String ggufName) throws IOException {
        try (Stream<Path> all = Files.walk(SharedData.models())) {
            return all.filter(p -> p.getFileName().toString().equals(ggufName)).findFirst()
                    .orElse(SharedData.models().resolve(ggufName));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pairs")
    void matchesLlamaCppIds(String name, Path inp, Path vocabFile) throws IOException {
        Assumptions.assumeTrue(vocabFile != null && Files.isRegularFile(vocabFile),
                () -> "vocabulary file not present in ../shared: " + vocabFile);
        Tokenizer t = Tokenizers.fromGguf(vocabFile);
        List<String> texts = SharedData.readInputs(inp);
        List<int[]> expected = SharedData.readOutputs(inp.resolveSibling(inp.getFileName().toString().replace(".inp", ".out")));
        assertEquals(expected.size(), texts.size(), name + ": .inp and .out disagree on the number of texts");
        Map<Integer, int[]> unrepresentable = unrepresentableReference(name);
        StringBuilder failures = new StringBuilder();
        int failed = 0;
        for (int i = 0; i < texts.size(); i++) {
            int[] want = expected.get(i);
            if (hasUnrepresentableCharacter(t, texts.get(i))) {
                // llama.cpp aborts on this text with this vocabulary, so the .out line is HF's: the
                // reference is llama.cpp's ids per representable run (src/test/resources/llamacpp)
                want = unrepresentable.get(i);
                assertNotNull(want, name + " #" + i + " " + escape(texts.get(i))
                        + ": characters outside the vocabulary and no llama.cpp reference in src/test/resources/llamacpp");
            }
            int[] got = t.encode(texts.get(i), false, false);
            if (!Arrays.equals(want, got)) {
                failed++;
                failures.append(String.format("%n  #%d %s%n    expected %s%n    got      %s", i,
                        escape(texts.get(i)), Arrays.toString(want), Arrays.toString(got)));
            }
        }
        if (failed > 0) {
            fail(name + ": " + failed + " of " + texts.size() + " texts tokenize differently from llama.cpp" + failures);
        }
    }

    /**
     * The TinyStories-656K .out file was written by HF tokenizers (llama.cpp's test-tokenizer-0.py does
     * the same): with tokenizer.json every line matches, the unrepresentable texts included.
     */
    @Test
    void tinyStoriesPairMatchesHuggingFaceWithTokenizerJson() throws IOException {
        Path dir = SharedData.models().resolve("tinystories656K/hf");
        Path inp = SharedData.tokenizerTests().resolve("models/TinyStories-656K-f32.gguf.inp");
        Assumptions.assumeTrue(Files.isRegularFile(dir.resolve("tokenizer.json")) && Files.isRegularFile(inp),
                "tokenizer.json or the .inp file not present in ../shared");
        Tokenizer t = Tokenizers.fromHuggingFace(dir);
        List<String> texts = SharedData.readInputs(inp);
        List<int[]> expected = SharedData.readOutputs(inp.resolveSibling("TinyStories-656K-f32.gguf.out"));
        assertEquals(expected.size(), texts.size());
        for (int i = 0; i < texts.size(); i++) {
            assertArrayEquals(expected.get(i), t.encode(texts.get(i), false, false), "#" + i + " " + escape(texts.get(i)));
        }
    }

    /** index of the text -> llama.cpp's ids, for the texts that llama.cpp cannot encode with the GGUF; empty if none. */
    static Map<Integer, int[]> unrepresentableReference(String ggufName) throws IOException {
        Map<Integer, int[]> out = new HashMap<>();
        try (InputStream in = LlamaCppVocabTest.class.getResourceAsStream("/llamacpp/" + ggufName + ".unrepresentable.out")) {
            if (in == null) {
                return out;
            }
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                int[] v = Arrays.stream(line.trim().split(" +")).mapToInt(Integer::parseInt).toArray();
                out.put(v[0], Arrays.copyOfRange(v, 1, v.length));
            }
        }
        return out;
    }

    /** A code point that is no token in an SPM vocabulary without byte tokens. */
    static boolean hasUnrepresentableCharacter(Tokenizer t, String text) {
        if (!t.modelName().equals("llama") || t.vocabulary().hasAllByteTokens()) {
            return false;
        }
        return ("\u2581" + text.replace(' ', '\u2581')).codePoints().anyMatch(cp -> t.vocabulary().id(new String(Character.toChars(cp))) < 0);
    }

    static String escape(String s) {
        String e = s.replace("\n", "\\n").replace("\t", "\\t");
        return "\"" + (e.length() > 80 ? e.substring(0, 80) + "..." : e) + "\"";
    }
}
