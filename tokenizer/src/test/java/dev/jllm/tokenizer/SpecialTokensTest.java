package dev.jllm.tokenizer;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** BOS/EOS flags, control tokens matched only with parseSpecial, EOG, decode of specials. */
class SpecialTokensTest {

    private static Tokenizer llamaSpm() throws Exception {
        Path f = SharedData.tokenizerTests().resolve("vocab/ggml-vocab-llama-spm.gguf");
        Assumptions.assumeTrue(Files.isRegularFile(f), "missing " + f);
        return Tokenizers.fromGguf(f);
    }

    @Test
    void controlTokensMatchOnlyWhenAllowed() throws Exception {
        Tokenizer t = llamaSpm();
        assertEquals(1, t.bosId().getAsInt());
        assertEquals(2, t.eosId().getAsInt());
        assertTrue(t.addsBos());
        assertFalse(t.addsEos());
        int[] parsed = t.encode("<s>Hi</s>", false, true);
        assertEquals(1, parsed[0]);
        assertEquals(2, parsed[parsed.length - 1]);
        // after a special token SPM starts a new word: the space prefix again
        assertArrayEquals(t.encode("Hi", false, false), Arrays.copyOfRange(parsed, 1, parsed.length - 1));
        int[] plain = t.encode("<s>Hi</s>", false, false);
        assertTrue(Arrays.stream(plain).noneMatch(id -> id == 1 || id == 2), Arrays.toString(plain));
        assertEquals("<s>Hi</s>", t.decode(plain, true));
        // decode: special tokens printed only when asked
        assertEquals("Hi", t.decode(parsed, true));
        // printed BOS: the first word keeps its space, as llama.cpp's detokenize and HF's legacy decode
        assertEquals("<s> Hi</s>", t.decode(parsed, false));
        assertEquals(1, t.encode("Hi", true, false)[0]);
        assertTrue(t.isEog(2));
        assertFalse(t.isEog(1));
    }

    @Test
    void emptyTextIsJustBos() throws Exception {
        Tokenizer t = llamaSpm();
        assertArrayEquals(new int[] {1}, t.encode("", true, false));
        assertArrayEquals(new int[0], t.encode("", false, false));
    }

    @Test
    void outOfRangeIdIsAClearError() throws Exception {
        Tokenizer t = llamaSpm();
        TokenizerException e = org.junit.jupiter.api.Assertions.assertThrows(TokenizerException.class,
                () -> t.decode(new int[] {t.vocabSize()}, true));
        assertTrue(e.getMessage().contains(String.valueOf(t.vocabSize())), e.getMessage());
    }

    @Test
    void streamingSkipsSpecialsAndStopsOnEogFreeText() throws Exception {
        Tokenizer t = llamaSpm();
        int[] ids = t.encode("<s>Hello world</s>", false, true);
        StreamingDecoder d = t.newStreamingDecoder(List.of());
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(d.accept(id).text());
        }
        sb.append(d.finish());
        assertEquals("Hello world", sb.toString());
    }
}
