package dev.jllm.engine.cli;

import dev.jllm.engine.bench.Shapes;
import dev.jllm.engine.bench.SyntheticGguf;
import dev.jllm.engine.bench.WeightMix;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code engine synth --shape NAME --type T --out FILE.gguf [--seed N] [--vocab-from FILE.gguf]}: writes a random-weight
 * GGUF of a named shape, every matrix in type T or in llama.cpp's Q4_K_M mix ({@link WeightMix}); with
 * {@code --vocab-from}, with that GGUF's vocabulary (and its size) instead of none.
 */
public final class SynthCommand {
    public static final String USAGE = "--shape " + String.join("|", Shapes.ALL.stream().map(Shapes::name).toList())
            + " --type F32|F16|BF16|Q8_0|Q4_0|Q4_K|Q6_K|Q4_K_M --out FILE.gguf [--seed N] [--vocab-from FILE.gguf]";

    private SynthCommand() {
    }

    public static int run(List<String> argList) throws Exception {
        Args args = new Args("synth", argList, Set.of("shape", "type", "out", "seed", "vocab-from"), Set.of());
        Shapes shape;
        WeightMix type;
        try {
            shape = Shapes.named(args.require("shape"));
            type = WeightMix.named(args.require("type"));
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException("synth: " + e.getMessage());
        }
        Path out = Path.of(args.require("out"));
        long seed = args.getLong("seed", 1);
        long t0 = System.nanoTime();
        String vocabFrom = args.get("vocab-from", null);
        long bytes = SyntheticGguf.write(shape, type, out, seed, vocabFrom == null ? null : Path.of(vocabFrom));
        StringBuilder json = new StringBuilder("{\"out\":");
        Json.quote(json, out.toString());
        json.append(String.format(Locale.ROOT, ",\"shape\":\"%s\",\"type\":\"%s\",\"tensor_bytes\":%d,\"seconds\":%.2f}",
                shape.name(), type.name(), bytes, (System.nanoTime() - t0) * 1e-9));
        System.out.println(json);
        return 0;
    }
}
