package dev.jllm.tokenizer;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * llama.cpp's tokenizer tests: every {@code .inp}/{@code .out} pair under ../shared/tokenizer-tests
 * (vocab/ggml-vocab-*.gguf and the two real models), encoded without BOS and without parsing special
 * tokens, as llama.cpp's test-tokenizer-0 does. A pair whose vocabulary file is absent is skipped with
 * the reason.
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
        StringBuilder failures = new StringBuilder();
        int failed = 0;
        for (int i = 0; i < texts.size(); i++) {
            int[] got = t.encode(texts.get(i), false, false);
            if (hasUnrepresentableCharacter(t, texts.get(i))) {
                // llama.cpp's SPM cannot tokenize this text with this vocabulary (no token and no <0xNN>
                // byte token for a character: its byte_to_token throws), so the .out line was not made by
                // llama.cpp; it holds HF's ids. We emit one unknown token per run of such characters.
                System.out.printf("%s #%d %s: characters outside the vocabulary, no llama.cpp reference; expected %s, got %s%n",
                        name, i, escape(texts.get(i)), Arrays.toString(expected.get(i)), Arrays.toString(got));
                assertTrue(Arrays.stream(got).anyMatch(id -> id == t.vocabulary().unk), name + " #" + i + ": no unknown token");
                continue;
            }
            if (!Arrays.equals(expected.get(i), got)) {
                failed++;
                failures.append(String.format("%n  #%d %s%n    expected %s%n    got      %s", i,
                        escape(texts.get(i)), Arrays.toString(expected.get(i)), Arrays.toString(got)));
            }
        }
        if (failed > 0) {
            fail(name + ": " + failed + " of " + texts.size() + " texts tokenize differently from llama.cpp" + failures);
        }
    }

    /** A code point that is no token in an SPM vocabulary without byte tokens. */
    static boolean hasUnrepresentableCharacter(Tokenizer t, String text) {
        if (!t.modelName().equals("llama") || t.vocabulary().hasAllByteTokens()) {
            return false;
        }
        return text.replace(' ', '\u2581').codePoints().anyMatch(cp -> t.vocabulary().id(new String(Character.toChars(cp))) < 0);
    }

    static String escape(String s) {
        String e = s.replace("\n", "\\n").replace("\t", "\\t");
        return "\"" + (e.length() > 80 ? e.substring(0, 80) + "..." : e) + "\"";
    }
}
