package dev.jllm.engine.cli;

import dev.jllm.gguf.GgufFile;

import java.io.ByteArrayOutputStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Text in and out for the command line. Uses the tokenizer library ({@code dev.jllm.tokenizer}) when it is on
 * the class path; otherwise decodes ids with the GGUF vocabulary's pieces (SentencePiece-style {@code ▁} spaces
 * and {@code <0xHH>} bytes), and cannot encode.
 */
final class TextCodec {
    private final Object tokenizer;     // dev.jllm.tokenizer.Tokenizer or null
    private final List<String> pieces;  // GGUF pieces or null

    private TextCodec(Object tokenizer, List<String> pieces) {
        this.tokenizer = tokenizer;
        this.pieces = pieces;
    }

    static TextCodec forModel(Path model) {
        List<String> pieces = null;
        boolean hasVocab = Files.isDirectory(model);
        if (!hasVocab) {
            try (GgufFile f = GgufFile.open(model)) {
                boolean noVocab = f.findString("tokenizer.ggml.model").map("no_vocab"::equals).orElse(true);
                if (!noVocab && f.has("tokenizer.ggml.tokens")) {
                    pieces = List.copyOf(f.getStringArray("tokenizer.ggml.tokens"));
                    hasVocab = true;
                }
            } catch (Exception e) {
                // not readable here: the model load reports it
            }
        }
        Object tok = null;
        if (hasVocab) {
            try {
                Class<?> c = Class.forName("dev.jllm.tokenizer.Tokenizers");
                tok = Files.isDirectory(model)
                        ? c.getMethod("fromHuggingFace", Path.class).invoke(null, model)
                        : c.getMethod("fromGguf", Path.class).invoke(null, model);
            } catch (ClassNotFoundException | NoClassDefFoundError e) {
                // tokenizer library not on the class path
            } catch (ReflectiveOperationException e) {
                System.err.println("warning: tokenizer unavailable: " + rootMessage(e));
            }
        }
        return new TextCodec(tok, pieces);
    }

    private static String rootMessage(Throwable e) {
        while (e.getCause() != null) e = e.getCause();
        return e.toString();
    }

    boolean canEncode() {
        return tokenizer != null;
    }

    boolean canDecode() {
        return tokenizer != null || pieces != null;
    }

    int[] encode(String text) {
        if (tokenizer == null) {
            throw new Args.UsageException("--prompt needs the tokenizer library on the class path (use --prompt-ids)");
        }
        try {
            Method m = tokenizer.getClass().getMethod("encode", String.class, boolean.class, boolean.class);
            return (int[]) m.invoke(tokenizer, text, true, false);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("tokenizer failed: " + rootMessage(e), e);
        }
    }

    Optional<String> decode(int[] ids) {
        if (tokenizer != null) {
            try {
                Method m = tokenizer.getClass().getMethod("decode", int[].class, boolean.class);
                return Optional.of((String) m.invoke(tokenizer, ids, true));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("tokenizer failed: " + rootMessage(e), e);
            }
        }
        if (pieces == null) return Optional.empty();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) {
            if (id < 0 || id >= pieces.size()) continue;
            String p = pieces.get(id);
            if (p.length() == 6 && p.startsWith("<0x") && p.endsWith(">")) {
                out.write(Integer.parseInt(p.substring(3, 5), 16));
            } else if (!(p.startsWith("<") && p.endsWith(">") && p.length() > 2)) {
                out.writeBytes(p.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8));
            }
        }
        return Optional.of(out.toString(StandardCharsets.UTF_8));
    }
}
