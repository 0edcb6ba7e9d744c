package dev.jllm.tokenizer.bench;

import dev.jllm.gguf.GgufFile;
import dev.jllm.tokenizer.Tokenizer;
import dev.jllm.tokenizer.Tokenizers;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

/**
 * Encode throughput on one thread: a generated English + code + CJK text of ~1 MB (and 256 KB for the
 * linearity ratio, same text's first quarter), with an SPM vocabulary (llama.cpp's llama-spm test vocab,
 * Llama 2's 32k) and a byte-level BPE vocabulary (gpt-2 test vocab by default). Each run builds a fresh
 * tokenizer, so the piece caches start empty; 6 warm-up runs first. Prints, for 1 MB and 256 KB: the
 * median MB/s by wall clock (and the best run's), the median MB/s by this thread's CPU time (on a shared,
 * busy machine the fairer figure: wall clock there mostly measures the wait for a core), the load
 * average before and after, and time(1 MB) / time(256 KB) (4.0 = linear).
 *
 * <pre>
 * ./mvnw -B -q -pl tokenizer compile -Djllm.target=target-x
 * java -cp tokenizer/target-x/classes:$(./mvnw -B -q -pl tokenizer dependency:build-classpath \
 *     -Dmdep.outputFile=/dev/stdout -Djllm.target=target-x) dev.jllm.tokenizer.bench.EncodeBench ../shared 9 gpt-2
 * </pre>
 * Arguments: [shared-dir] [runs] [bpe-vocab-name: gpt-2, falcon, deepseek-llm, starcoder, ...].
 */
public final class EncodeBench {

    public static void main(String[] args) throws Exception {
        Path shared = Path.of(args.length > 0 ? args[0] : System.getProperty("jllm.shared.dir", "../shared"));
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 9;
        String bpe = args.length > 2 ? args[2] : "gpt-2";
        Path vocab = shared.resolve("tokenizer-tests/vocab");
        String big = text(1 << 20, 1);
        String small = big.substring(0, big.offsetByCodePoints(0, big.codePointCount(0, big.length()) / 4));
        System.out.println("load average before: " + loadAverage() + " on " + Runtime.getRuntime().availableProcessors() + " cpus");
        System.out.printf("text: %d bytes UTF-8 (%d chars); quarter: %d bytes%n",
                big.getBytes(StandardCharsets.UTF_8).length, big.length(), small.getBytes(StandardCharsets.UTF_8).length);
        bench("SPM llama-spm", vocab.resolve("ggml-vocab-llama-spm.gguf"), big, small, runs);
        bench("BPE " + bpe, vocab.resolve("ggml-vocab-" + bpe + ".gguf"), big, small, runs);
        System.out.println("load average after: " + loadAverage());
    }

    private static String loadAverage() {
        try {
            return java.nio.file.Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (java.io.IOException | RuntimeException e) {
            return "n/a (not Linux)";
        }
    }

    private static void bench(String label, Path file, String big, String small, int runs) throws Exception {
        try (GgufFile f = GgufFile.open(file)) {
            seconds(f, big, 6, false);   // warm-up: JIT
            double mb = big.getBytes(StandardCharsets.UTF_8).length / 1e6;
            int tokens = Tokenizers.fromGguf(f).encode(big, false, false).length;
            double[] bigWall = seconds(f, big, runs, false);
            double[] smallWall = seconds(f, small, runs, false);
            double[] bigCpu = seconds(f, big, runs, true);
            double[] smallCpu = seconds(f, small, runs, true);
            System.out.printf("%-18s wall       1MB: %7.1f ms median of %d, %6.1f MB/s (best run %6.1f MB/s), %d tokens | 256KB: %6.1f ms | ratio 1MB/256KB = %.2f (4.0 = linear)%n",
                    label, median(bigWall) * 1e3, runs, mb / median(bigWall), mb / bigWall[0], tokens, median(smallWall) * 1e3,
                    median(bigWall) / median(smallWall));
            System.out.printf("%-18s thread-cpu 1MB: %7.1f ms median of %d, %6.1f MB/s | 256KB: %6.1f ms | ratio 1MB/256KB = %.2f (4.0 = linear)%n",
                    label, median(bigCpu) * 1e3, runs, mb / median(bigCpu), median(smallCpu) * 1e3, median(bigCpu) / median(smallCpu));
        }
    }

    private static double median(double[] sorted) {
        return sorted[sorted.length / 2];
    }

    /** Sorted seconds per run, of wall-clock time or of this thread's CPU time. */
    private static double[] seconds(GgufFile f, String text, int runs, boolean cpu) {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        double[] t = new double[runs];
        for (int r = 0; r < runs; r++) {
            Tokenizer tok = Tokenizers.fromGguf(f);   // fresh piece caches
            long t0 = cpu ? mx.getCurrentThreadCpuTime() : System.nanoTime();
            int n = tok.encode(text, false, false).length;
            t[r] = ((cpu ? mx.getCurrentThreadCpuTime() : System.nanoTime()) - t0) / 1e9;
            if (n == 0) {
                throw new IllegalStateException("no tokens");
            }
        }
        Arrays.sort(t);
        return t;
    }

    /** The benchmark's text, about {@code targetBytes} of UTF-8 (seed 1). */
    public static String sample(int targetBytes) {
        return text(targetBytes, 1);
    }

    /** ~targetBytes of varied text: English-like prose, Java-like code, CJK; seeded. */
    static String text(int targetBytes, long seed) {
        Random rnd = new Random(seed);
        String[] common = {"the", "of", "and", "to", "in", "is", "was", "that", "for", "with", "as", "on", "by", "it", "from",
                "model", "token", "server", "request", "memory", "engine", "people", "little", "because", "through"};
        String[] syll = {"ka", "ter", "on", "mi", "sul", "bra", "ex", "tion", "po", "lin", "gra", "vo", "ne", "di", "st", "qu", "ar", "el"};
        StringBuilder sb = new StringBuilder(targetBytes);
        int bytes = 0;
        while (bytes < targetBytes) {
            int start = sb.length();
            switch (rnd.nextInt(3)) {
                case 0 -> {   // prose
                    for (int w = 0; w < 60; w++) {
                        if (rnd.nextInt(3) == 0) {
                            StringBuilder word = new StringBuilder();
                            for (int s = 1 + rnd.nextInt(4); s > 0; s--) {
                                word.append(syll[rnd.nextInt(syll.length)]);
                            }
                            sb.append(w == 0 ? Character.toUpperCase(word.charAt(0)) + word.substring(1) : word);
                        } else {
                            sb.append(common[rnd.nextInt(common.length)]);
                        }
                        sb.append(rnd.nextInt(12) == 0 ? ", " : rnd.nextInt(15) == 0 ? ". " : " ");
                    }
                    sb.append(rnd.nextInt(100)).append("%.\n\n");
                }
                case 1 -> {   // code
                    String id = syll[rnd.nextInt(syll.length)] + syll[rnd.nextInt(syll.length)] + rnd.nextInt(1000);
                    sb.append("    public static int ").append(id).append("(int[] xs, int n) {\n")
                            .append("        int acc = 0x").append(Integer.toHexString(rnd.nextInt())).append(";\n")
                            .append("        for (int i = 0; i < n; i++) { acc += xs[i] * ").append(rnd.nextInt(97)).append("; }\n")
                            .append("        return acc >>> 3; // ").append(id).append("\n    }\n\n");
                }
                default -> {   // CJK
                    for (int c = 0; c < 80; c++) {
                        sb.appendCodePoint(0x4E00 + rnd.nextInt(0x9FA5 - 0x4E00));
                        if (rnd.nextInt(12) == 0) {
                            sb.append(rnd.nextBoolean() ? "，" : "。");
                        }
                    }
                    sb.append('\n');
                }
            }
            bytes += sb.substring(start).getBytes(StandardCharsets.UTF_8).length;
        }
        return sb.toString();
    }
}
