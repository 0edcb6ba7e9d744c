package dev.jllm.bench;

import dev.jllm.batching.HttpSessionStore;
import dev.jllm.batching.SessionStore;
import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.Models;
import dev.jllm.engine.SequenceChunk;
import dev.jllm.engine.bench.Shapes;
import dev.jllm.engine.bench.SyntheticGguf;
import dev.jllm.engine.kv.KvCache;
import dev.jllm.engine.kv.KvCacheOptions;
import dev.jllm.engine.kv.KvType;
import dev.jllm.engine.sample.Logits;
import dev.jllm.gguf.GgmlType;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Time to first token of a session's turn N: with its cache restored from session-service versus a full
 * re-prefill of its history, and park/restore throughput, over the real path (the inference side's
 * {@link HttpSessionStore}: "JSES" + tokens + {@link KvCache#writeTo}, HTTP, session-service's chunked,
 * checksummed PostgreSQL store, and back with the SHA-256 verified).
 *
 * <pre>
 * bin/session-bench --session-service http://127.0.0.1:8083 [--token T] [--model FILE.gguf]
 *                   [--history 1000] [--new 24] [--runs 3] [--chunk 512] [--kv F32|F16]
 * </pre>
 * Without {@code --model}, a random-weight Q8_0 Llama of ~125M parameters ({@link #BENCH_SHAPE}) is written to
 * the temp folder once. Each run: prefill the history (turn N-1), park it; then turn N's TTFT both ways (restore +
 * prefill of the new tokens, versus prefill of history + new tokens in chunks of {@code --chunk}, as the
 * scheduler does); both must pick the same first token. Prints medians as one JSON line.
 */
public final class SessionBench {
    /** A small Llama (dim 768, 12 layers, GQA 12/4, vocab 32000): ~125M parameters, a 1,000-token prefill takes seconds on a CPU. */
    static final Shapes BENCH_SHAPE = new Shapes("bench-125m", 768, 12, 12, 4, 2048, 32000, 2048, 10000f, 1e-5f, 0, 0, 0, false, 0f);

    public static void main(String[] args) throws Exception {
        Map<String, String> a = StackBench.parse(args);
        String url = require(a, "session-service");
        Optional<String> token = Optional.ofNullable(a.get("token")).filter(t -> !t.isBlank());
        int history = Integer.parseInt(a.getOrDefault("history", "1000"));
        int fresh = Integer.parseInt(a.getOrDefault("new", "24"));
        int runs = Integer.parseInt(a.getOrDefault("runs", "3"));
        int chunk = Integer.parseInt(a.getOrDefault("chunk", "512"));
        KvType kv = KvType.valueOf(a.getOrDefault("kv", "F32").toUpperCase(Locale.ROOT));
        Path modelPath = a.containsKey("model") ? Path.of(a.get("model")) : synthesized();

        double load0 = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        try (LanguageModel model = Models.load(modelPath)) {
            int vocab = model.config().vocabSize();
            KvCacheOptions options = new KvCacheOptions(kv, history + fresh + 8);
            SessionStore store = new HttpSessionStore(url, modelPath.getFileName().toString(), model, token);

            // warm-up: JIT the forward pass and the park/restore path once, untimed
            Turn warm = new Turn(randomTokens(64, vocab, -1), randomTokens(8, vocab, -2));
            measure(model, store, options, warm, chunk, "session-bench-warmup");

            List<Result> results = new ArrayList<>();
            for (int r = 0; r < runs; r++) {
                Turn turn = new Turn(randomTokens(history, vocab, r), randomTokens(fresh, vocab, 1000 + r));
                Result res = measure(model, store, options, turn, chunk, "session-bench-" + ProcessHandle.current().pid() + "-" + r);
                System.err.printf(Locale.ROOT, "run %d: TTFT restored %.3f s (restore %.3f s), re-prefill %.3f s, park %.3f s, %.1f MB, same first token: %s%n",
                        r + 1, res.ttftRestored, res.restore, res.ttftFull, res.park, res.bytes / 1e6, res.sameToken);
                results.add(res);
            }
            double load1 = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
            double restored = median(results, Result::ttftRestored), full = median(results, Result::ttftFull);
            double mb = results.getFirst().bytes / 1e6;
            System.out.printf(Locale.ROOT, "{\"bench\":\"session\",\"model\":\"%s\",\"backend\":\"%s\",\"history_tokens\":%d,\"new_tokens\":%d,"
                            + "\"runs\":%d,\"kv\":\"%s\",\"ttft_restored_s\":%.4f,\"ttft_reprefill_s\":%.4f,\"speedup\":%.2f,"
                            + "\"snapshot_mb\":%.2f,\"park_mb_per_s\":%.1f,\"restore_mb_per_s\":%.1f,\"same_first_token\":%s,"
                            + "\"max_logit_diff\":%.3g,\"cores\":%d,\"load_avg\":[%.2f,%.2f]}%n",
                    modelPath.getFileName(), model.backend(), history, fresh, runs, kv, restored, full, full / restored, mb,
                    mb / median(results, Result::park), mb / median(results, Result::restore),
                    results.stream().allMatch(Result::sameToken), results.stream().mapToDouble(Result::maxLogitDiff).max().orElse(0),
                    Runtime.getRuntime().availableProcessors(), load0, load1);
        }
    }

    /** Turn N of a session: the history its cache holds, and the new tokens of the turn. */
    record Turn(int[] history, int[] fresh) {
        int[] all() {
            int[] all = Arrays.copyOf(history, history.length + fresh.length);
            System.arraycopy(fresh, 0, all, history.length, fresh.length);
            return all;
        }
    }

    /** Seconds and bytes of one run. */
    record Result(double ttftRestored, double restore, double ttftFull, double park, long bytes, boolean sameToken, double maxLogitDiff) {}

    static Result measure(LanguageModel model, SessionStore store, KvCacheOptions options, Turn turn, int chunk, String session) throws IOException {
        // turn N-1 left this cache; it is parked
        KvCache previous = model.newCache(options);
        prefill(model, previous, turn.history(), chunk);
        long bytes = 8 + 4L * turn.history().length + serializedBytes(previous);
        long t0 = System.nanoTime();
        store.park(session, previous, turn.history());
        double park = seconds(t0);

        // turn N with the restored cache: restore, then prefill only the new tokens
        t0 = System.nanoTime();
        SessionStore.Parked parked = store.restore(session).orElseThrow(() -> new IllegalStateException("the parked session was not restored"));
        double restore = seconds(t0);
        float[] restoredLogits = prefill(model, parked.cache(), turn.fresh(), chunk);
        int restoredToken = Logits.argmax(restoredLogits, restoredLogits.length);
        double ttftRestored = seconds(t0);

        // turn N without: prefill history and new tokens
        t0 = System.nanoTime();
        float[] fullLogits = prefill(model, model.newCache(options), turn.all(), chunk);
        int fullToken = Logits.argmax(fullLogits, fullLogits.length);
        double ttftFull = seconds(t0);

        double diff = 0;
        for (int i = 0; i < fullLogits.length; i++) diff = Math.max(diff, Math.abs(fullLogits[i] - restoredLogits[i]));
        delete(store, session);
        return new Result(ttftRestored, restore, ttftFull, park, bytes, restoredToken == fullToken, diff);
    }

    /** Prefills {@code tokens} in chunks (as the scheduler does); the logits after the last one. */
    static float[] prefill(LanguageModel model, KvCache cache, int[] tokens, int chunk) {
        float[] logits = null;
        for (int from = 0; from < tokens.length; from += chunk) {
            int[] part = Arrays.copyOfRange(tokens, from, Math.min(tokens.length, from + chunk));
            logits = model.forward(List.of(new SequenceChunk(cache, part, from + part.length == tokens.length)))[0];
        }
        return logits;
    }

    static long serializedBytes(KvCache cache) throws IOException {
        long[] n = {0};
        cache.writeTo(new OutputStream() {
            @Override public void write(int b) { n[0]++; }
            @Override public void write(byte[] b, int off, int len) { n[0] += len; }
        });
        return n[0];
    }

    /** Removes the benchmark's session from session-service (its snapshot goes with it). */
    static void delete(SessionStore store, String session) throws IOException {
        if (store instanceof HttpSessionStore http) http.delete(session);
    }

    static int[] randomTokens(int n, int vocab, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = 3 + rnd.nextInt(vocab - 3); // past BOS/EOS/UNK
        return t;
    }

    static Path synthesized() throws IOException {
        Path out = Path.of(System.getProperty("java.io.tmpdir"), "jllm-" + BENCH_SHAPE.name() + ".q8_0.gguf");
        if (!Files.isRegularFile(out)) {
            System.err.println("session-bench: writing a random-weight " + BENCH_SHAPE.name() + " (Q8_0) to " + out + " ...");
            Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
            SyntheticGguf.write(BENCH_SHAPE, GgmlType.Q8_0, tmp, 42);
            Files.move(tmp, out, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        return out;
    }

    static double median(List<Result> rs, java.util.function.ToDoubleFunction<Result> f) {
        double[] v = rs.stream().mapToDouble(f).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    static String require(Map<String, String> a, String k) {
        String v = a.get(k);
        if (v == null) throw new IllegalArgumentException("--" + k + " is required");
        return v;
    }
}
