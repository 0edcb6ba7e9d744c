package dev.jllm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a running job costs interactive traffic, and how fast jobs go: time to first token of interactive
 * streaming requests (one at a time) on an idle stack, then while a job of {@code --items} prompts of
 * {@code --tokens} tokens runs; and the job's completion tokens per second.
 *
 * <pre>
 * bin/jobs-bench [--url http://127.0.0.1:8080] [--model NAME] [--key API_KEY] [--items 200] [--tokens 128] [--probes 20]
 * </pre>
 * Prints one JSON line. The job's pace is set by session-service's {@code JLLM_JOBS_MAX_IN_FLIGHT}.
 */
public final class JobsBench {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration TIMEOUT = Duration.ofMinutes(2);
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public static void main(String[] args) throws Exception {
        Map<String, String> a = StackBench.parse(args);
        String url = a.getOrDefault("url", "http://127.0.0.1:8080").replaceAll("/+$", "");
        String key = a.get("key");
        int items = Integer.parseInt(a.getOrDefault("items", "200"));
        int tokens = Integer.parseInt(a.getOrDefault("tokens", "128"));
        int probes = Integer.parseInt(a.getOrDefault("probes", "20"));
        String model = a.containsKey("model") ? a.get("model") : send(url, key, "GET", "/v1/models", null).at("/data/0/id").asText();

        ttft(url, key, model, 2); // warm-up
        List<Double> idle = ttft(url, key, model, probes);

        ArrayNode requests = JSON.createArrayNode();
        for (int i = 0; i < items; i++) {
            ObjectNode body = JSON.createObjectNode().put("model", model).put("prompt", "Once upon a time " + i)
                    .put("max_tokens", tokens).put("temperature", 0);
            requests.addObject().put("url", "/v1/completions").set("body", body);
        }
        long t0 = System.nanoTime();
        String id = send(url, key, "POST", "/v1/jobs", JSON.createObjectNode().set("requests", requests)).get("id").asText();
        List<Double> during = ttft(url, key, model, probes);
        JsonNode job;
        while (true) {
            job = send(url, key, "GET", "/v1/jobs/" + id, null);
            String status = job.get("status").asText();
            if (!status.equals("queued") && !status.equals("running")) break;
            if (System.nanoTime() - t0 > Duration.ofMinutes(30).toNanos()) throw new IllegalStateException("job did not end: " + job.get("progress"));
            Thread.sleep(100);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long completionTokens = 0;
        for (JsonNode r : job.get("results")) completionTokens += r.at("/response/usage/completion_tokens").asLong(0);
        boolean overlapped = job.at("/progress/done").asInt() > 0;
        System.out.println(String.format(Locale.ROOT,
                "{\"items\":%d,\"max_tokens\":%d,\"job_status\":\"%s\",\"job_seconds\":%.2f,\"job_completion_tokens\":%d,"
                        + "\"job_tokens_per_s\":%.0f,\"ttft_idle_p50_ms\":%.1f,\"ttft_idle_max_ms\":%.1f,"
                        + "\"ttft_during_job_p50_ms\":%.1f,\"ttft_during_job_max_ms\":%.1f,\"probes\":%d,\"probes_overlapped_job\":%b}",
                items, tokens, job.get("status").asText(), seconds, completionTokens, completionTokens / seconds,
                median(idle), Collections.max(idle), median(during), Collections.max(during), probes, overlapped));
    }

    /** Milliseconds to the first SSE event of {@code n} streaming requests sent one after another. */
    static List<Double> ttft(String url, String key, String model, int n) throws Exception {
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ObjectNode body = JSON.createObjectNode().put("model", model).put("max_tokens", 16).put("temperature", 0).put("stream", true);
            body.putArray("messages").addObject().put("role", "user").put("content", "Tell me a story " + i);
            long t0 = System.nanoTime();
            HttpResponse<InputStream> r = HTTP.send(request(url, key, "/v1/chat/completions")
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofInputStream());
            if (r.statusCode() != 200) throw new IllegalStateException("HTTP " + r.statusCode());
            try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                String line;
                boolean first = true;
                while ((line = in.readLine()) != null) {
                    if (first && line.startsWith("data:")) {
                        out.add((System.nanoTime() - t0) / 1e6);
                        first = false;
                    }
                }
            }
        }
        return out;
    }

    static JsonNode send(String url, String key, String method, String path, JsonNode body) throws Exception {
        HttpRequest req = request(url, key, path).method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body.toString())).build();
        HttpResponse<String> r = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) throw new IllegalStateException(method + " " + path + ": HTTP " + r.statusCode() + " " + r.body());
        return JSON.readTree(r.body());
    }

    static HttpRequest.Builder request(String url, String key, String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).timeout(TIMEOUT).header("Content-Type", "application/json");
        if (key != null) b.header("Authorization", "Bearer " + key);
        return b;
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
