package dev.jllm.engine.cli;

import dev.jllm.engine.bench.Shapes;
import dev.jllm.engine.bench.SyntheticGguf;
import dev.jllm.gguf.GgmlType;
import dev.jllm.gguf.GgufFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench and synth commands run end to end on a tiny model (figures are not checked: benchmarks print them). */
class BenchCommandTest {
    @TempDir
    Path dir;

    private static String captureStdout(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            int rc = EngineMain.run(args, new PrintStream(err, true, StandardCharsets.UTF_8));
            assertEquals(0, rc, "exit code; stderr: " + err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8).trim();
    }

    private static double number(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":(-?[0-9.eE+-]+)").matcher(json);
        assertTrue(m.find(), key + " in " + json);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void synthThenBenchPrintOneJsonLineEach() throws Exception {
        Path model = dir.resolve("tiny.gguf");
        String synth = captureStdout("synth", "--shape", "tiny-mistral", "--type", "Q4_0", "--out", model.toString(), "--seed", "9");
        assertTrue(synth.startsWith("{") && synth.endsWith("}") && synth.contains("\"shape\":\"tiny-mistral\""), synth);
        try (GgufFile f = GgufFile.open(model)) {
            assertEquals(GgmlType.Q4_0, f.tensor("blk.0.attn_q.weight").type());
        }
        String bench = captureStdout("bench", "--model", model.toString(), "--prompt", "8", "--gen", "3", "--batch", "2",
                "--threads", "2", "--bandwidth-mb", "16");
        assertEquals(1, bench.lines().count(), bench);
        assertTrue(number(bench, "prefill_tokens_per_s") > 0, bench);
        assertTrue(number(bench, "decode_tokens_per_s") > 0, bench);
        assertTrue(number(bench, "copy_bandwidth_gb_s") > 0, bench);
        assertEquals(2, number(bench, "batch"));
        double bytes = number(bench, "weight_bytes_per_token");
        assertTrue(bytes > 0 && bytes < SyntheticGguf.write(Shapes.named("tiny-mistral"), GgmlType.Q4_0, dir.resolve("again.gguf"), 9) * 1.01, bench);
        double fraction = number(bench, "decode_fraction_of_bound");
        assertTrue(fraction > 0, bench);
    }

    @Test
    void matvecBenchRunsOnATinyShape() {
        String out = captureStdout("bench", "--synthetic", "tiny-llama", "--type", "Q8_0", "--matvec", "--batch", "4", "--gen", "3",
                "--bandwidth-mb", "16");
        assertTrue(out.contains("\"batch_1\"") && out.contains("\"batch_4\""), out);
        assertTrue(number(out, "weight_bytes_per_step") > 0, out);
    }
}
