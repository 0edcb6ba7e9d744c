package dev.jllm.tokenizer;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * decode(encode(text)) == text on the llama.cpp test texts for vocabularies that can represent any
 * text (byte fallback or byte-level), and streaming deltas == full decode, for random ids too.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RoundTripTest {
    private final Map<String, Tokenizer> lossless = new LinkedHashMap<>();
    private List<String> texts;

    @BeforeAll
    void load() throws IOException {
        Path vocab = SharedData.tokenizerTests().resolve("vocab");
        for (String name : List.of("llama-spm", "gpt-2", "falcon", "starcoder", "deepseek-coder", "deepseek-llm", "mpt", "refact")) {
            Path f = vocab.resolve("ggml-vocab-" + name + ".gguf");
            if (Files.isRegularFile(f)) {
                lossless.put(name, Tokenizers.fromGguf(f));
            }
        }
        Path s260 = SharedData.models().resolve("stories260K/stories260K.gguf");
        if (Files.isRegularFile(s260)) {
            lossless.put("stories260K", Tokenizers.fromGguf(s260));
        }
        Path inp = vocab.resolve("ggml-vocab-gpt-2.gguf.inp");
        texts = Files.isRegularFile(inp) ? SharedData.readInputs(inp) : List.of();
    }

    @Test
    void decodeOfEncodeIsTheText() {
        Assumptions.assumeTrue(!lossless.isEmpty() && !texts.isEmpty(), "no vocabulary files in ../shared/tokenizer-tests");
        List<String> failures = new ArrayList<>();
        for (var e : lossless.entrySet()) {
            for (String text : texts) {
                String back = e.getValue().decode(e.getValue().encode(text, true, false), true);
                if (!back.equals(text)) {
                    failures.add(e.getKey() + ": " + LlamaCppVocabTest.escape(text) + " -> " + LlamaCppVocabTest.escape(back));
                }
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " round trips differ:\n" + String.join("\n", failures));
    }

    @Test
    void streamingDeltasConcatenateToTheFullDecode() {
        Assumptions.assumeTrue(!lossless.isEmpty() && !texts.isEmpty(), "no vocabulary files in ../shared/tokenizer-tests");
        Random rnd = new Random(42);
        for (var e : lossless.entrySet()) {
            Tokenizer t = e.getValue();
            for (String text : texts) {
                assertStreamEqualsDecode(t, t.encode(text, true, false), e.getKey() + " " + LlamaCppVocabTest.escape(text));
            }
            for (int run = 0; run < 200; run++) {   // random ids: byte tokens in any order, broken UTF-8
                int[] ids = new int[1 + rnd.nextInt(40)];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = rnd.nextInt(4) == 0 ? rnd.nextInt(Math.min(300, t.vocabSize())) : rnd.nextInt(t.vocabSize());
                }
                assertStreamEqualsDecode(t, ids, e.getKey() + " random run " + run);
            }
        }
    }

    private static void assertStreamEqualsDecode(Tokenizer t, int[] ids, String what) {
        StreamingDecoder d = t.newStreamingDecoder(List.of());
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            String delta = d.accept(id).text();
            assertTrue(delta.isEmpty() || !Character.isHighSurrogate(delta.charAt(delta.length() - 1)), what + ": delta ends in a split surrogate pair");
            sb.append(delta);
        }
        sb.append(d.finish());
        assertEquals(t.decode(ids, true), sb.toString(), what);
    }

    @Test
    void streamingNeverSplitsAUtf8CharacterAcrossByteTokens() throws IOException {
        Tokenizer t = lossless.get("stories260K");
        Assumptions.assumeTrue(t != null, "stories260K.gguf missing");
        String text = "Führer 🦙 нещо";
        int[] ids = t.encode(text, false, false);
        StreamingDecoder d = t.newStreamingDecoder(List.of());
        List<String> deltas = new ArrayList<>();
        for (int id : ids) {
            deltas.add(d.accept(id).text());
        }
        deltas.add(d.finish());
        assertEquals(text, String.join("", deltas));
        for (String delta : deltas) {
            assertTrue(!delta.contains("\uFFFD"), "delta " + delta + " holds a replacement character");
        }
        // the llama is 4 byte tokens: no delta may hold only part of it
        assertTrue(deltas.stream().anyMatch(s -> s.contains("🦙")), "the emoji arrives in one delta: " + deltas);
    }

    @Test
    void stopStringsSplitAcrossTokensAreFoundAndNotEmitted() {
        Tokenizer t = lossless.get("gpt-2");
        Assumptions.assumeTrue(t != null, "gpt-2 vocab missing");
        String text = "Hello world. User: what next?";
        int[] ids = t.encode(text, false, false);
        StreamingDecoder d = t.newStreamingDecoder(List.of("User:", "never"));
        StringBuilder sb = new StringBuilder();
        boolean stopped = false;
        for (int id : ids) {
            StreamingDecoder.Delta delta = d.accept(id);
            sb.append(delta.text());
            if (delta.stopped()) {
                stopped = true;
                break;
            }
        }
        assertTrue(stopped, "stop string not detected");
        assertEquals("Hello world. ", sb.toString());
        assertEquals("User:", d.stopMatched());
        // a held-back prefix that does not become the stop string is released
        StreamingDecoder d2 = t.newStreamingDecoder(List.of("Hello there"));
        StringBuilder sb2 = new StringBuilder();
        for (int id : t.encode("Hello world", false, false)) {
            sb2.append(d2.accept(id).text());
        }
        sb2.append(d2.finish());
        assertEquals("Hello world", sb2.toString());
    }

    @Test
    void completeLengthHoldsOnlyValidUnfinishedSequences() {
        byte[] euro = "€".getBytes(StandardCharsets.UTF_8);   // E2 82 AC
        assertEquals(0, StreamingDecoder.completeLength(euro, 1));
        assertEquals(0, StreamingDecoder.completeLength(euro, 2));
        assertEquals(3, StreamingDecoder.completeLength(euro, 3));
        assertEquals(1, StreamingDecoder.completeLength(new byte[] {'a', (byte) 0xF0, (byte) 0x9F}, 3));
        assertEquals(2, StreamingDecoder.completeLength(new byte[] {(byte) 0xE0, (byte) 0x80}, 2));   // overlong: not held
        assertEquals(1, StreamingDecoder.completeLength(new byte[] {(byte) 0xFF}, 1));
    }
}
