package dev.jllm.cuda.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The shared reference data ({@code ../shared}): model files and golden runs. */
final class Goldens {
    private Goldens() {
    }

    static Path shared() {
        return Path.of(System.getProperty("jllm.shared.dir", "../shared"));
    }

    /** A golden case: GGUF file, prompt ids, expected greedy ids, optional prompt logits {@code [prompt][vocab]}. */
    record Case(String name, Path gguf, int[] prompt, int[] generated, Path promptLogits) {
    }

    static Case stories260K() throws IOException {
        Path json = shared().resolve("golden/stories260K.llamacpp.kvf32.json");
        String s = Files.readString(json);
        return new Case("stories260K", shared().resolve("models/stories260K/stories260K.gguf"), ints(s, "prompt_ids"), ints(s, "generated_ids"), null);
    }

    static Case ts656k() throws IOException {
        String s = Files.readString(shared().resolve("golden/ts656k.llamacpp.f32.kvf32.json"));
        return new Case("ts656k-f32", shared().resolve("models/tinystories656K/TinyStories-656K-f32.gguf"), ints(s, "prompt_ids"), ints(s, "generated_ids"), null);
    }

    /** A tiny random-weight model against HF transformers (mistral-swa: HF is the reference, not llama.cpp). */
    static Case random(String model) throws IOException {
        Path dir = shared().resolve("golden/random/" + model);
        String s = Files.readString(dir.resolve("reference.json"));
        return new Case(model, dir.resolve(model + "-f32.gguf"), ints(s, "prompt_ids"), ints(s, "generated_ids"), dir.resolve("a.prompt_logits.f32"));
    }

    /** The first JSON integer array under {@code key}. */
    static int[] ints(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*\\[([^\\]]*)\\]").matcher(json);
        if (!m.find()) throw new IllegalArgumentException("no array '" + key + "'");
        String[] parts = m.group(1).split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) out[i] = Integer.parseInt(parts[i].trim());
        return out;
    }

    static float[][] logits(Path f32, int rows, int vocab) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f32)).order(ByteOrder.LITTLE_ENDIAN);
        float[][] out = new float[rows][vocab];
        for (int r = 0; r < rows; r++) for (int v = 0; v < vocab; v++) out[r][v] = b.getFloat();
        return out;
    }
}
