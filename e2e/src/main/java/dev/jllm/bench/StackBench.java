package dev.jllm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jllm.batching.GenerationSink;
import dev.jllm.batching.Scheduler;
import dev.jllm.contracts.GenerationEvent;
import dev.jllm.contracts.Priority;
import dev.jllm.contracts.PromptTokenized;
import dev.jllm.contracts.SamplingParams;
import dev.jllm.contracts.TokenGenerated;
import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.LoadOptions;
import dev.jllm.engine.Models;
import dev.jllm.engine.kv.KvCacheOptions;
import dev.jllm.tokenizer.Tokenizer;
import dev.jllm.tokenizer.Tokenizers;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Drives N concurrent streams through a running gateway and prints time to first token, inter-token latency
 * and aggregate tokens/s, next to the same figures for the same requests run by the same scheduler on the
 * engine in-process (what the stack adds = HTTP + the Kafka hops + tokenization service). Greedy decoding, so
 * both sides do identical work.
 *
 * <pre>bin/stack-bench --model FILE.gguf [--url http://127.0.0.1:8080] [--concurrency 1,8] [--requests 16]
 *                  [--max-tokens 64] [--warmup 4]</pre>
 */
public final class StackBench {
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> PROMPTS = List.of("Once upon a time", "The little dog", "One day, Lily", "Tom and Sam were",
            "The sun was shining", "There was a big tree", "A girl named Mia", "In the small house");

    /** Per-request timings in nanoseconds. */
    record Timing(long ttft, long[] gaps, int tokens) {}

    /** The timings of one run and how long it took from first send to last token. */
    record Run(List<Timing> timings, long wallNanos) {}

    record Figures(double ttftP50, double ttftP90, double itlP50, double itlP90, double itlP99, double tokensPerSecond, int requests) {}

    public static void main(String[] args) throws Exception {
        Map<String, String> a = parse(args);
        String url = a.getOrDefault("url", "http://127.0.0.1:8080");
        Path model = Path.of(required(a, "model"));
        String name = a.getOrDefault("model-name", model.getFileName().toString().replaceFirst("\\.gguf$", ""));
        int[] levels = Arrays.stream(a.getOrDefault("concurrency", "1,8").split(",")).mapToInt(Integer::parseInt).toArray();
        int maxTokens = Integer.parseInt(a.getOrDefault("max-tokens", "64"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "4"));

        Map<Integer, Figures> stack = new LinkedHashMap<>();
        Map<Integer, Figures> engine = new LinkedHashMap<>();

        try (LanguageModel m = Models.load(model, LoadOptions.DEFAULT)) {
            Tokenizer tok = Tokenizers.fromGguf(model);
            for (int c : levels) {
                int requests = Integer.parseInt(a.getOrDefault("requests", String.valueOf(Math.max(2 * c, 8))));
                runStack(url, name, c, warmup, maxTokens); // warm-up: JIT, connections, consumer fetch sessions
                stack.put(c, figures(runStack(url, name, c, requests, maxTokens)));
                runEngine(m, tok, c, warmup, maxTokens);
                engine.put(c, figures(runEngine(m, tok, c, requests, maxTokens)));
            }
        }
        System.out.printf(Locale.ROOT, "%-12s %5s %10s %10s %10s %10s %10s %12s%n", "side", "conc", "ttft p50", "ttft p90",
                "itl p50", "itl p90", "itl p99", "tokens/s");
        for (int c : levels) {
            print("stack", c, stack.get(c));
            print("in-process", c, engine.get(c));
        }
        int lo = levels[0], hi = levels[levels.length - 1];
        Figures s1 = stack.get(lo), sN = stack.get(hi), e1 = engine.get(lo), eN = engine.get(hi);
        System.out.printf(Locale.ROOT, "stack adds (median, concurrency %d): TTFT %+.2f ms, inter-token %+.3f ms%n",
                lo, s1.ttftP50 - e1.ttftP50, s1.itlP50 - e1.itlP50);
        System.out.printf(Locale.ROOT, "stack adds (median, concurrency %d): TTFT %+.2f ms, inter-token %+.3f ms%n",
                hi, sN.ttftP50 - eN.ttftP50, sN.itlP50 - eN.itlP50);
        System.out.printf(Locale.ROOT, "aggregate tokens/s, concurrency %d vs %d: stack %.2fx, in-process %.2fx%n",
                hi, lo, sN.tokensPerSecond / s1.tokensPerSecond, eN.tokensPerSecond / e1.tokensPerSecond);
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("model", name);
        line.put("max_tokens", maxTokens);
        line.put("stack", stack);
        line.put("in_process", engine);
        System.out.println(JSON.writeValueAsString(line));
    }

    static void print(String side, int c, Figures f) {
        System.out.printf(Locale.ROOT, "%-12s %5d %8.2fms %8.2fms %8.3fms %8.3fms %8.3fms %12.1f%n", side, c,
                f.ttftP50, f.ttftP90, f.itlP50, f.itlP90, f.itlP99, f.tokensPerSecond);
    }

    /** {@code requests} streaming requests through the gateway, {@code concurrency} at a time. */
    static Run runStack(String url, String model, int concurrency, int requests, int maxTokens) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        List<SseClient> clients = java.util.Collections.synchronizedList(new ArrayList<>());
        ThreadLocal<SseClient> http = ThreadLocal.withInitial(() -> {
            SseClient c = new SseClient(url);
            clients.add(c);
            return c;
        });
        try {
            long t0 = System.nanoTime();
            List<Future<Timing>> fs = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                String prompt = PROMPTS.get(i % PROMPTS.size());
                fs.add(pool.submit(() -> oneStream(http.get(), model, prompt, maxTokens)));
            }
            List<Timing> out = new ArrayList<>();
            for (Future<Timing> f : fs) out.add(f.get(10, TimeUnit.MINUTES));
            return new Run(out, System.nanoTime() - t0);
        } finally {
            pool.shutdownNow();
            clients.forEach(SseClient::close);
        }
    }

    static Timing oneStream(SseClient http, String model, String prompt, int maxTokens) throws Exception {
        String body = JSON.writeValueAsString(Map.of("model", model, "prompt", prompt, "max_tokens", maxTokens,
                "temperature", 0, "stream", true));
        List<Long> arrivals = new ArrayList<>();
        long start = System.nanoTime();
        http.stream("/v1/completions", body, (data, now) -> {
            if (data.equals("[DONE]")) return;
            try {
                JsonNode c = JSON.readTree(data);
                if (!c.at("/choices/0/text").asText("").isEmpty()) arrivals.add(now);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        return timing(start, arrivals);
    }

    /** The same requests through the same scheduler, in-process: no HTTP, no Kafka, no separate tokenizer. */
    static Run runEngine(LanguageModel m, Tokenizer tok, int concurrency, int requests, int maxTokens) throws Exception {
        Map<String, List<Long>> arrivals = new ConcurrentHashMap<>();
        Map<String, CountDownLatch> done = new ConcurrentHashMap<>();
        GenerationSink sink = (GenerationEvent e) -> {
            long now = System.nanoTime();
            if (e instanceof TokenGenerated t) {
                if (t.text() != null && !t.text().isEmpty()) arrivals.computeIfAbsent(t.requestId(), k -> new ArrayList<>()).add(now);
                if (t.isLast()) done.get(t.requestId()).countDown();
            } else {
                done.get(e.requestId()).countDown();
            }
        };
        var limits = new Scheduler.Limits(16, 256, 2048L << 20, 512, KvCacheOptions.DEFAULT, 100_000);
        List<Timing> out = new ArrayList<>();
        long t0 = System.nanoTime();
        try (Scheduler s = new Scheduler(m, tok, sink, limits).start()) {
            // keep `concurrency` requests in flight, like the HTTP side
            int next = 0;
            List<String> inFlight = new ArrayList<>();
            Map<String, Long> starts = new ConcurrentHashMap<>();
            while (next < requests || !inFlight.isEmpty()) {
                while (inFlight.size() < concurrency && next < requests) {
                    String id = "bench-" + System.nanoTime() + "-" + next;
                    String prompt = PROMPTS.get(next % PROMPTS.size());
                    done.put(id, new CountDownLatch(1));
                    starts.put(id, System.nanoTime());
                    s.submit(new PromptTokenized(id, "bench", id, null, "m", tok.encode(prompt, true, false),
                            SamplingParams.greedy(maxTokens), List.of(), Priority.INTERACTIVE, 0));
                    inFlight.add(id);
                    next++;
                }
                String first = inFlight.getFirst();
                if (!done.get(first).await(5, TimeUnit.MINUTES)) throw new IllegalStateException("in-process request stuck");
                for (var it = inFlight.iterator(); it.hasNext(); ) {
                    String id = it.next();
                    if (done.get(id).getCount() == 0) {
                        out.add(timing(starts.get(id), arrivals.getOrDefault(id, List.of())));
                        it.remove();
                    }
                }
            }
        }
        return new Run(out, System.nanoTime() - t0);
    }

    static Timing timing(long start, List<Long> arrivals) {
        if (arrivals.isEmpty()) return new Timing(0, new long[0], 0);
        long[] gaps = new long[arrivals.size() - 1];
        for (int i = 1; i < arrivals.size(); i++) gaps[i - 1] = arrivals.get(i) - arrivals.get(i - 1);
        return new Timing(arrivals.getFirst() - start, gaps, arrivals.size());
    }

    static Figures figures(Run run) {
        List<Timing> ts = run.timings();
        double[] ttft = ts.stream().mapToDouble(t -> t.ttft / 1e6).sorted().toArray();
        double[] itl = ts.stream().flatMapToLong(t -> Arrays.stream(t.gaps)).mapToDouble(g -> g / 1e6).sorted().toArray();
        long tokens = ts.stream().mapToLong(Timing::tokens).sum();
        return new Figures(pct(ttft, 50), pct(ttft, 90), pct(itl, 50), pct(itl, 90), pct(itl, 99),
                tokens / (run.wallNanos() / 1e9), ts.size());
    }

    static double pct(double[] sorted, int p) {
        if (sorted.length == 0) return Double.NaN;
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    /** Nearest-rank percentile of sorted values. */
    static long pct(long[] sorted, int p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) throw new IllegalArgumentException("unexpected argument " + args[i]);
            String k = args[i].substring(2);
            if (i + 1 >= args.length) throw new IllegalArgumentException("--" + k + " needs a value");
            m.put(k, args[++i]);
        }
        return m;
    }

    static String required(Map<String, String> a, String k) {
        String v = a.get(k);
        if (v == null) {
            System.err.println("usage: bin/stack-bench --model FILE.gguf [--url http://127.0.0.1:8080] [--concurrency 1,8] "
                    + "[--requests N] [--max-tokens 64] [--warmup 4]");
            System.exit(2);
        }
        return v;
    }
}
