package dev.jllm.engine.llama;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the reference files of ../shared/golden. */
final class Golden {
    static final Path SHARED = Path.of(System.getProperty("jllm.shared.dir", "../shared"));
    static final Path DIR = SHARED.resolve("golden");

    private Golden() {
    }

    /** The first int array under {@code "key": [...]} in a JSON text (after {@code after}, if given). */
    static int[] intArray(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*\\[([^\\]]*)\\]").matcher(json);
        if (!m.find()) throw new AssertionError("no array '" + key + "'");
        String body = m.group(1).trim();
        if (body.isEmpty()) return new int[0];
        String[] parts = body.split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) out[i] = Integer.parseInt(parts[i].trim());
        return out;
    }

    /** Raw little-endian float32 [rows][cols]. */
    static float[][] f32(Path p, int cols) throws IOException {
        byte[] b = Files.readAllBytes(p);
        if (b.length % (4 * cols) != 0) throw new AssertionError(p + ": " + b.length + " bytes is not rows of " + cols);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        float[][] out = new float[b.length / 4 / cols][cols];
        for (float[] row : out) bb.asFloatBuffer().get(row).position();
        for (int r = 0; r < out.length; r++) {
            for (int c = 0; c < cols; c++) out[r][c] = bb.getFloat((r * cols + c) * 4);
        }
        return out;
    }

    static float maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) throw new AssertionError("lengths " + a.length + " vs " + b.length);
        float m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
