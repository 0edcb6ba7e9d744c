package dev.jllm.engine.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EngineMainTest {
    static final Path SHARED = Path.of(System.getProperty("jllm.shared.dir", "../shared"));
    static final Path STORIES = SHARED.resolve("models/stories260K/stories260K.gguf");

    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        PrintStream oldOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true));
            int code = EngineMain.run(args, new PrintStream(err, true));
            return new Result(code, out.toString(), err.toString());
        } finally {
            System.setOut(oldOut);
        }
    }

    @Test
    void generateJsonGreedyMatchesLlamaCpp() throws IOException {
        Assumptions.assumeTrue(Files.exists(STORIES), "shared model missing");
        Result r = run("generate", "--model", STORIES.toString(), "--prompt-ids", "1,403,407,261,378", "--max-tokens", "8",
                "--temperature", "0", "--json");
        assertEquals(0, r.code(), r.err());
        String json = r.out().trim();
        assertTrue(json.startsWith("{\"prompt_ids\":[1,403,407,261,378],\"ids\":[432,383,286,261,376,298,315,421]"), json);
        assertTrue(json.contains("\"text\":\", there was a little girl\""), json);
        assertTrue(json.contains("\"prefill_tokens_per_s\":") && json.contains("\"decode_tokens_per_s\":"), json);
    }

    @Test
    void logitsWritesEveryPosition() throws IOException {
        Assumptions.assumeTrue(Files.exists(STORIES), "shared model missing");
        Path out = tmp.resolve("l.f32");
        Result r = run("logits", "--model", STORIES.toString(), "--prompt-ids", "1,403,407,261,378", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        byte[] b = Files.readAllBytes(out);
        assertEquals(5 * 512 * 4, b.length);
        // the last row is the golden's first (logits after the prompt)
        byte[] g = Files.readAllBytes(SHARED.resolve("golden/stories260K.llamacpp.kvf32.logits.f32"));
        ByteBuffer ours = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer ref = ByteBuffer.wrap(g).order(ByteOrder.LITTLE_ENDIAN);
        for (int v = 0; v < 512; v++) {
            assertEquals(ref.getFloat(v * 4), ours.getFloat((4 * 512 + v) * 4), 1e-4f, "vocab " + v);
        }
    }

    @Test
    void usageErrors() {
        assertEquals(2, run().code());
        Result r = run("nope");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown command 'nope'"));
        r = run("generate", "--model", "x.gguf");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--prompt"), r.err());
        r = run("logits", "--model", "x.gguf", "--prompt-ids", "1,a", "--out", "y");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("token ids"), r.err());
        r = run("generate", "--model", tmp.resolve("missing.gguf").toString(), "--prompt-ids", "1");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("model not found"), r.err());
    }
}
