package dev.jllm.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where the time to first token goes inside a running stack: joins the {@code trace <request> <stage> <micros>}
 * lines the services log with {@code JLLM_TRACE=1 ./stack up} (see {@code PipelineTrace}) and prints, for the
 * requests that went the whole way, the median and p90 of each step between consecutive stages (ordered by their
 * median offset from the gateway's parse), and of the whole path.
 *
 * <pre>bin/trace-report [--dir .stack] [--last 300]</pre>
 */
public final class TraceReport {
    private static final Pattern LINE = Pattern.compile("\\btrace (\\S+) (\\S+) (\\d+)");
    public static final String START = "gateway.request-parsed";
    public static final String END = "gateway.first-chunk-written";

    /** One step between two stages, over the requests that passed both (microseconds). */
    public record Step(String from, String to, long p50Micros, long p90Micros) {}

    private TraceReport() {}

    public static void main(String[] args) throws IOException {
        Map<String, String> a = StackBench.parse(args);
        Path dir = Path.of(a.getOrDefault("dir", System.getenv().getOrDefault("JLLM_STACK_DIR", ".stack")));
        int last = Integer.parseInt(a.getOrDefault("last", "300"));
        List<Map<String, Long>> requests = complete(load(dir), last);
        if (requests.isEmpty()) {
            System.out.println("no complete traces in " + dir + ": start the stack with JLLM_TRACE=1 and send some streaming requests");
            return;
        }
        System.out.printf(Locale.ROOT, "%d requests; medians and p90s in ms%n", requests.size());
        List<Step> steps = new ArrayList<>(steps(requests));
        steps.add(step(START, END, requests));
        for (Step s : steps) {
            System.out.printf(Locale.ROOT, "  %-38s -> %-38s %8.3f %8.3f%n", s.from(), s.to(), s.p50Micros() / 1e3, s.p90Micros() / 1e3);
        }
    }

    /** Stage timestamps by request id, from every {@code *.log} in a stack's folder. */
    public static Map<String, Map<String, Long>> load(Path dir) throws IOException {
        Map<String, Map<String, Long>> byRequest = new HashMap<>();
        try (Stream<Path> logs = Files.list(dir)) {
            for (Path log : logs.filter(p -> p.getFileName().toString().endsWith(".log")).toList()) {
                try (Stream<String> lines = Files.lines(log)) {
                    lines.forEach(line -> read(line, byRequest));
                }
            }
        }
        return byRequest;
    }

    static void read(String line, Map<String, Map<String, Long>> byRequest) {
        Matcher m = LINE.matcher(line);
        if (!m.find()) return;
        // a redelivered record is marked again: the first time is the one on the request's path
        byRequest.computeIfAbsent(m.group(1), k -> new HashMap<>()).putIfAbsent(m.group(2), Long.parseLong(m.group(3)));
    }

    /** The last {@code last} requests (by start) that have both the first and the last stage. */
    public static List<Map<String, Long>> complete(Map<String, Map<String, Long>> byRequest, int last) {
        List<Map<String, Long>> all = byRequest.values().stream()
                .filter(s -> s.containsKey(START) && s.containsKey(END))
                .sorted(Comparator.comparing((Map<String, Long> s) -> s.get(START))).toList();
        return all.subList(Math.max(0, all.size() - last), all.size());
    }

    /** Consecutive steps over the stages most requests passed, in order of their median offset from the start. */
    public static List<Step> steps(List<Map<String, Long>> requests) {
        Map<String, List<Long>> offsets = new HashMap<>();
        for (Map<String, Long> s : requests) {
            long t0 = s.get(START);
            s.forEach((stage, t) -> offsets.computeIfAbsent(stage, k -> new ArrayList<>()).add(t - t0));
        }
        Map<String, Long> medians = new HashMap<>();
        offsets.forEach((stage, v) -> {
            if (v.size() * 2 >= requests.size()) medians.put(stage, pct(v, 50)); // stages most requests pass
        });
        List<String> order = medians.keySet().stream()
                .sorted(Comparator.comparingLong((String st) -> medians.get(st)).thenComparing(st -> st)).toList();
        List<Step> steps = new ArrayList<>();
        for (int i = 1; i < order.size(); i++) steps.add(step(order.get(i - 1), order.get(i), requests));
        return steps;
    }

    static Step step(String from, String to, List<Map<String, Long>> requests) {
        List<Long> d = new ArrayList<>();
        for (Map<String, Long> s : requests) {
            if (s.containsKey(from) && s.containsKey(to)) d.add(s.get(to) - s.get(from));
        }
        return new Step(from, to, pct(d, 50), pct(d, 90));
    }

    static long pct(List<Long> v, int p) {
        return StackBench.pct(v.stream().mapToLong(Long::longValue).sorted().toArray(), p);
    }
}
