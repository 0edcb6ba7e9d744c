package dev.jllm.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * story-sentences.tokens.json: ids from HF tokenizers (TinyStories-656K tokenizer.json), llama.cpp
 * (both GGUFs) and llama2.c (stories260K), all without BOS.
 */
class StorySentencesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode sentences() throws IOException {
        Path p = SharedData.tokenizerTests().resolve("models/story-sentences.tokens.json");
        Assumptions.assumeTrue(Files.isRegularFile(p), "missing " + p);
        return JSON.readTree(p.toFile());
    }

    private static int[] ids(JsonNode n) {
        int[] r = new int[n.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = n.get(i).asInt();
        }
        return r;
    }

    private static void check(Tokenizer t, String field) throws IOException {
        JsonNode all = sentences();
        List<String> failures = new ArrayList<>();
        for (JsonNode s : all) {
            String text = s.path("text").asText();
            int[] expected = ids(s.path(field));
            int[] got = t.encode(text, false, false);
            if (!Arrays.equals(expected, got)) {
                failures.add(text + "\n  expected " + Arrays.toString(expected) + "\n  got      " + Arrays.toString(got));
            }
            assertEquals(text, t.decode(got, true), "round trip of " + text);
        }
        assertTrue(failures.isEmpty(), field + ": " + failures.size() + " of " + all.size() + " differ:\n" + String.join("\n", failures));
    }

    @Test
    void tinyStoriesHuggingFaceTokenizerJson() throws IOException {
        Path dir = SharedData.models().resolve("tinystories656K/hf");
        Assumptions.assumeTrue(Files.isRegularFile(dir.resolve("tokenizer.json")), "missing " + dir);
        Tokenizer t = Tokenizers.fromHuggingFace(dir);
        check(t, "tinystories656k_hf_ids");
        assertEquals(1, t.bosId().getAsInt());
        assertEquals(2, t.eosId().getAsInt());
        assertTrue(t.isEog(2));
        // the post-processor / add_bos_token put BOS first, as HF's encode does
        assertArrayEquals(new int[] {1, 80, 147, 201, 282, 57}, t.encode("Once upon a time", true, false));
    }

    @Test
    void tinyStoriesGguf() throws IOException {
        Path f = SharedData.models().resolve("tinystories656K/TinyStories-656K-f32.gguf");
        Assumptions.assumeTrue(Files.isRegularFile(f), "missing " + f);
        Tokenizer t = Tokenizers.fromGguf(f);
        check(t, "tinystories656k_llamacpp_ids");
        assertArrayEquals(new int[] {1, 80, 147, 201, 282, 57}, t.encode("Once upon a time", true, false));
    }

    @Test
    void stories260kGgufMatchesLlamaCppAndLlama2c() throws IOException {
        Path f = SharedData.models().resolve("stories260K/stories260K.gguf");
        Assumptions.assumeTrue(Files.isRegularFile(f), "missing " + f);
        Tokenizer t = Tokenizers.fromGguf(f);
        check(t, "stories260k_llamacpp_ids");
        check(t, "stories260k_llama2c_ids");
        assertArrayEquals(new int[] {1, 403, 407, 261, 378}, t.encode("Once upon a time", true, false));
    }
}
