package dev.jllm.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jllm.gguf.GgufFile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The tokenizer.json byte-level path (ByteLevel pre-tokenizer / Split regex + BPE merges): GPT-2's
 * vocabulary and merges written as a tokenizer.json must give llama.cpp's ids for the gpt-2 texts.
 */
class HuggingFaceByteLevelTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode tokenizerJson(Path gguf, ObjectNode preTokenizer) throws Exception {
        try (GgufFile f = GgufFile.open(gguf)) {
            List<String> tokens = f.getStringArray("tokenizer.ggml.tokens");
            List<String> merges = f.getStringArray("tokenizer.ggml.merges");
            ObjectNode root = JSON.createObjectNode();
            ObjectNode model = root.putObject("model");
            model.put("type", "BPE");
            ObjectNode vocab = model.putObject("vocab");
            for (int i = 0; i < tokens.size(); i++) {
                if (!vocab.has(tokens.get(i))) {
                    vocab.put(tokens.get(i), i);
                }
            }
            ArrayNode m = model.putArray("merges");
            for (String s : merges) {
                int sp = s.indexOf(' ', 1);
                m.addArray().add(s.substring(0, sp)).add(s.substring(sp + 1));   // the newer [a, b] form
            }
            root.set("pre_tokenizer", preTokenizer);
            root.putObject("decoder").put("type", "ByteLevel");
            ArrayNode added = root.putArray("added_tokens");
            added.addObject().put("id", tokens.indexOf("<|endoftext|>")).put("content", "<|endoftext|>").put("special", true);
            return root;
        }
    }

    @Test
    void gpt2AsTokenizerJsonMatchesLlamaCpp() throws Exception {
        Path vocab = SharedData.tokenizerTests().resolve("vocab");
        Path gguf = vocab.resolve("ggml-vocab-gpt-2.gguf");
        Assumptions.assumeTrue(Files.isRegularFile(gguf), "missing " + gguf);
        ObjectNode pre = JSON.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", true);
        ObjectNode cfg = JSON.createObjectNode().put("bos_token", "<|endoftext|>").put("eos_token", "<|endoftext|>");
        Tokenizer t = Tokenizers.fromHuggingFace(tokenizerJson(gguf, pre), cfg);
        List<String> texts = SharedData.readInputs(vocab.resolve("ggml-vocab-gpt-2.gguf.inp"));
        List<int[]> expected = SharedData.readOutputs(vocab.resolve("ggml-vocab-gpt-2.gguf.out"));
        for (int i = 0; i < texts.size(); i++) {
            int[] got = t.encode(texts.get(i), false, false);
            assertArrayEquals(expected.get(i), got, "#" + i + " " + LlamaCppVocabTest.escape(texts.get(i)) + " got " + Arrays.toString(got));
            assertEquals(texts.get(i), t.decode(got, true));
        }
        int eot = t.vocabulary().id("<|endoftext|>");
        assertArrayEquals(new int[] {eot}, t.encode("<|endoftext|>", false, true));
        assertEquals(true, t.isEog(eot));
    }

    @Test
    void unsupportedPieceIsAClearError() {
        ObjectNode root = JSON.createObjectNode();
        root.putObject("model").put("type", "Unigram");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.fromHuggingFace(root, JSON.createObjectNode()));
        assertEquals(true, e.getMessage().contains("Unigram"), e.getMessage());
    }
}
