package dev.jllm.engine.cli;

import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.Models;
import dev.jllm.engine.kv.KvCacheOptions;

import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** {@code logits}: raw little-endian float32 logits at every prompt position, {@code [positions][vocab]}. */
final class LogitsCommand {
    static final String USAGE = "--model FILE --prompt-ids 1,2,3 --out FILE.f32 [--threads N] [--kv-type f32|f16]"
            + " [--sliding-window N] [--prefill-chunk N]";

    private LogitsCommand() {
    }

    static int run(List<String> argv) throws Exception {
        Args a = new Args("logits", argv, Set.of("model", "prompt-ids", "out", "threads", "kv-type", "sliding-window",
                "prefill-chunk"), Set.of());
        Path model = Path.of(a.require("model"));
        int[] ids = a.ids("prompt-ids");
        Path out = Path.of(a.require("out"));
        try (LanguageModel m = Models.load(model, GenerateCommand.options(a))) {
            float[][] logits = m.forwardAll(m.newCache(KvCacheOptions.of(GenerateCommand.kvType(a))), ids);
            int vocab = m.config().vocabSize();
            ByteBuffer row = ByteBuffer.allocate(vocab * 4).order(ByteOrder.LITTLE_ENDIAN);
            try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(out))) {
                for (float[] l : logits) {
                    row.clear();
                    row.asFloatBuffer().put(l);
                    os.write(row.array());
                }
            }
            System.err.printf("wrote %d x %d logits to %s%n", logits.length, vocab, out);
        }
        return 0;
    }
}
