package dev.jllm.engine.cli;

import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.LoadOptions;
import dev.jllm.engine.Models;
import dev.jllm.engine.SequenceChunk;
import dev.jllm.engine.bench.Bandwidth;
import dev.jllm.engine.bench.MatvecBench;
import dev.jllm.engine.bench.Shapes;
import dev.jllm.engine.bench.SyntheticGguf;
import dev.jllm.engine.bench.WeightMix;
import dev.jllm.engine.kv.KvCache;
import dev.jllm.engine.kv.KvCacheOptions;
import dev.jllm.engine.kv.KvType;
import dev.jllm.engine.tensor.MatOps;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code engine bench}: prefill and decode speed of a model (a file, or a random-weight model of a named shape
 * written once to the temp directory), against this machine's memory bandwidth. Prints one JSON line.
 *
 * <p>Decode is memory bound: each step reads every weight once, so {@code weight bytes / step time} over the
 * measured copy bandwidth is the fraction of the bound reached. Timings are medians where repeated; the JIT is
 * warmed up on a throwaway sequence first. {@code --matvec} runs the kernel-only benchmark instead (the matrices of
 * the shape, no attention or norms).
 */
public final class BenchCommand {
    public static final String USAGE = "(--model FILE | --synthetic SHAPE --type F32|F16|BF16|Q8_0|Q4_0|Q4_K|Q6_K|Q4_K_M) "
            + "[--prompt 512] [--gen 128] [--batch 1] [--threads N] [--kv F32|F16] [--matvec] [--bandwidth-mb 1024]";
    /** STREAM-like copy buffer, MB: far larger than any cache. */
    private static final int BANDWIDTH_BUFFER_MB = 1024;
    private static final int BANDWIDTH_RUNS = 5;

    private BenchCommand() {
    }

    public static int run(List<String> argList) throws Exception {
        Args args = new Args("bench", argList, Set.of("model", "synthetic", "type", "prompt", "gen", "batch", "threads", "kv", "seed", "bandwidth-mb"),
                Set.of("matvec"));
        int prompt = args.getInt("prompt", 512), gen = args.getInt("gen", 128), batch = args.getInt("batch", 1);
        int threads = args.getInt("threads", 0);
        if (prompt < 1 || gen < 1 || batch < 1) throw new Args.UsageException("bench: --prompt, --gen and --batch must be >= 1");
        if (threads > 0) MatOps.setThreads(threads);
        if (args.has("model") == args.has("synthetic")) {
            throw new Args.UsageException("bench: give exactly one of --model FILE and --synthetic SHAPE");
        }
        Shapes shape = null;
        WeightMix type = null;
        if (args.has("synthetic")) {
            try {
                shape = Shapes.named(args.require("synthetic"));
                type = WeightMix.named(args.require("type"));
            } catch (IllegalArgumentException e) {
                throw new Args.UsageException("bench: " + e.getMessage());
            }
        }
        int bandwidthMb = args.getInt("bandwidth-mb", BANDWIDTH_BUFFER_MB);
        if (bandwidthMb < 1) throw new Args.UsageException("bench: --bandwidth-mb must be >= 1");
        Bandwidth.Result bw = Bandwidth.measure((long) bandwidthMb << 20, BANDWIDTH_RUNS);
        if (args.flag("matvec")) {
            if (shape == null || !(type instanceof WeightMix.Uniform uniform)) {
                throw new Args.UsageException("bench: --matvec needs --synthetic SHAPE --type T (a single type)");
            }
            int[] batches = batch == 1 ? new int[]{1} : new int[]{1, batch};
            System.out.println(MatvecBench.run(shape, uniform.type(), batches, Math.max(3, Math.min(gen, 9)), bw));
            return 0;
        }
        Path model;
        if (shape != null) {
            model = Path.of(System.getProperty("java.io.tmpdir"), "jllm-bench-" + shape.name() + "-" + type.name() + ".gguf");
            if (!Files.exists(model)) SyntheticGguf.write(shape, type, model, args.getLong("seed", 1));
        } else {
            model = Path.of(args.require("model"));
        }
        KvType kv = KvType.valueOf(args.get("kv", "F32").toUpperCase(Locale.ROOT));
        System.out.println(measure(model, shape, type, prompt, gen, batch, kv, bw));
        return 0;
    }

    private static long heapUsed() {
        for (int i = 0; i < 2; i++) System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static String measure(Path modelPath, Shapes shape, WeightMix type, int prompt, int gen, int batch, KvType kvType,
                          Bandwidth.Result bw) throws Exception {
        long heapBefore = heapUsed();
        long t0 = System.nanoTime();
        try (LanguageModel model = Models.load(modelPath, LoadOptions.DEFAULT.withThreads(MatOps.threads()))) {
            double loadSeconds = (System.nanoTime() - t0) * 1e-9;
            long modelHeap = heapUsed() - heapBefore;
            int vocab = model.config().vocabSize();
            KvCacheOptions kvOptions = new KvCacheOptions(kvType, prompt + gen + 1);
            SplittableRandom rnd = new SplittableRandom(7);

            // warm-up on a throwaway sequence: the JIT compiles the kernels for prefill (n > 1) and decode (n = 1)
            int[] warmTokens = rnd.ints(Math.min(prompt, 32), 0, vocab).toArray();
            KvCache warm = model.newCache(new KvCacheOptions(kvType, warmTokens.length + 8));
            model.forward(warm, warmTokens);
            for (int i = 0; i < 6; i++) model.forward(warm, rnd.nextInt(vocab));
            warm = null;

            // prefill: batch sequences of prompt tokens in one call (the model splits it into its prefill chunks)
            List<KvCache> caches = new ArrayList<>();
            List<SequenceChunk> chunks = new ArrayList<>();
            for (int b = 0; b < batch; b++) {
                KvCache c = model.newCache(kvOptions);
                caches.add(c);
                chunks.add(new SequenceChunk(c, rnd.ints(prompt, 0, vocab).toArray(), true));
            }
            long p0 = System.nanoTime();
            float[][] logits = model.forward(chunks);
            double prefillSeconds = (System.nanoTime() - p0) * 1e-9;

            // decode: gen steps of one token per sequence, greedy
            double[] steps = new double[gen];
            long cpu0 = processCpuNanos();
            long d0 = System.nanoTime();
            for (int g = 0; g < gen; g++) {
                List<SequenceChunk> step = new ArrayList<>(batch);
                for (int b = 0; b < batch; b++) step.add(new SequenceChunk(caches.get(b), new int[]{argmax(logits[b])}, true));
                long s0 = System.nanoTime();
                logits = model.forward(step);
                steps[g] = (System.nanoTime() - s0) * 1e-9;
            }
            double decodeSeconds = (System.nanoTime() - d0) * 1e-9;
            // share of the threads' wall time this process got on a machine others may be using (1.0: all of it)
            double decodeCpuSeconds = (processCpuNanos() - cpu0) * 1e-9;
            double cpuShare = decodeCpuSeconds / (decodeSeconds * MatOps.threads());
            double medianStep = median(steps);
            long weightBytes = model.weightBytes();
            double decodeTps = batch / medianStep;
            double stepBandwidth = weightBytes / medianStep;

            StringBuilder json = new StringBuilder("{\"bench\":\"model\",\"model\":");
            Json.quote(json, modelPath.toString());
            json.append(String.format(Locale.ROOT, ",\"shape\":%s,\"type\":%s,\"backend\":\"%s\",\"threads\":%d,\"batch\":%d,"
                            + "\"prompt_tokens\":%d,\"gen_tokens\":%d,\"kv\":\"%s\","
                            + "\"prefill_tokens_per_s\":%.2f,\"decode_tokens_per_s\":%.3f,\"decode_tokens_per_s_mean\":%.3f,"
                            + "\"decode_step_ms_median\":%.2f,\"weight_bytes_per_token\":%d,"
                            + "\"copy_bandwidth_gb_s\":%.2f,\"read_bandwidth_gb_s\":%.2f,\"bound_tokens_per_s\":%.3f,"
                            + "\"decode_fraction_of_bound\":%.3f,\"decode_fraction_of_read_bandwidth\":%.3f,"
                            + "\"decode_cpu_share\":%.2f,\"decode_tokens_per_cpu_s\":%.3f,\"system_load_average\":%.2f,\"load_s\":%.3f,\"heap_used_mb\":%.1f,\"weights_gb\":%.3f,\"heap_mb_per_weight_gb\":%.2f}",
                    shape == null ? "null" : "\"" + shape.name() + "\"", type == null ? "null" : "\"" + type.name() + "\"",
                    model.backend(), MatOps.threads(), batch, prompt, gen, kvType,
                    batch * prompt / prefillSeconds, decodeTps, batch * gen / decodeSeconds, medianStep * 1e3, weightBytes,
                    bw.copyBytesPerSecond() / 1e9, bw.readBytesPerSecond() / 1e9, bw.copyBytesPerSecond() / weightBytes,
                    stepBandwidth / bw.copyBytesPerSecond(), stepBandwidth / bw.readBytesPerSecond(),
                    cpuShare, batch * gen / decodeCpuSeconds, ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), loadSeconds, modelHeap / 1e6, weightBytes / 1e9, (modelHeap / 1e6) / (weightBytes / 1e9)));
            return json.toString();
        }
    }

    /** CPU time of this process (all threads), or -1 when the platform does not report it. */
    static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
