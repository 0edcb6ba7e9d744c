package dev.jllm.cuda.bench;

import dev.jllm.cuda.CudaAvailability;
import dev.jllm.cuda.ffm.CudaDevice;
import dev.jllm.cuda.ffm.DeviceBuffer;
import dev.jllm.cuda.kernels.CudaKernels;
import dev.jllm.gguf.GgmlType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * GPU benchmark of the kernels on random-weight models of Llama shapes (all kernels of a forward pass,
 * captured as one CUDA graph per step):
 * <ul>
 *   <li>device copy bandwidth (bytes read + written per second, 1 GiB device-to-device), the bound;</li>
 *   <li>decode tokens/s at batch 1 and its fraction of the bound (weight bytes per token over the copy
 *       bandwidth); aggregate decode tokens/s at 8 and 32 sequences;</li>
 *   <li>prefill tokens/s for a 512-token chunk.</li>
 * </ul>
 * Medians of event-timed graph replays. Prints a Markdown table; {@code --out FILE} also writes it.
 * Usage: {@code DecodeBench [--quick] [--out FILE]}.
 */
public final class DecodeBench {
    private static final int WINDOW = 512, CONTEXT_POS = 256, PREFILL = 512;

    private record Config(LlamaShape shape, GgmlType type) {
    }

    public static void main(String[] args) throws IOException {
        boolean quick = Arrays.asList(args).contains("--quick");
        Path out = null;
        for (int i = 0; i + 1 < args.length; i++) if (args[i].equals("--out")) out = Path.of(args[i + 1]);
        CudaAvailability.Probe probe = CudaAvailability.probe();
        if (!probe.available()) {
            System.out.println("DecodeBench skipped: " + probe.reason());
            return;
        }
        List<Config> configs = new ArrayList<>(List.of(
                new Config(LlamaShape.LLAMA_3_2_1B, GgmlType.BF16), new Config(LlamaShape.LLAMA_3_2_1B, GgmlType.Q8_0),
                new Config(LlamaShape.LLAMA_3_2_1B, GgmlType.Q4_0), new Config(LlamaShape.LLAMA_2_7B, GgmlType.Q8_0),
                new Config(LlamaShape.LLAMA_2_7B, GgmlType.Q4_0)));
        if (!quick) {
            configs.add(new Config(LlamaShape.LLAMA_3_2_1B, GgmlType.Q4_K));
            configs.add(new Config(LlamaShape.LLAMA_3_2_1B, GgmlType.Q6_K));
        }
        if (Arrays.asList(args).contains("--variants")) {  // batch-1 decode tok/s of each matvec variant
            try (CudaDevice dev = CudaDevice.open(probe.driver().orElseThrow(), 0, false)) {
                CudaKernels k = new CudaKernels(dev);
                long stream = dev.createStream();
                long start = dev.createEvent(), end = dev.createEvent();
                System.out.println("| model | type | default: x staged, multi-matrix launches | one launch per matrix | x staged, norm and gate fused | x from global memory |");
                for (Config c : List.of(new Config(LlamaShape.LLAMA_3_2_1B, GgmlType.BF16), new Config(LlamaShape.LLAMA_3_2_1B, GgmlType.Q8_0),
                        new Config(LlamaShape.LLAMA_3_2_1B, GgmlType.Q4_0), new Config(LlamaShape.LLAMA_2_7B, GgmlType.Q8_0),
                        new Config(LlamaShape.LLAMA_2_7B, GgmlType.Q4_0))) {
                    StringBuilder row = new StringBuilder("| " + c.shape().name() + " | " + c.type() + " |");
                    k.stageMatvecInput(true);
                    k.fuseInputs(false);
                    try (RandomLlama m = new RandomLlama(k, c.shape(), c.type(), PREFILL, 32, WINDOW, 1234, stream)) {
                        m.setBatch(new int[]{CONTEXT_POS}, new int[]{0}, stream);
                        for (int v = 0; v < 4; v++) {
                            k.stageMatvecInput(v < 3);
                            k.fuseInputs(v == 2);
                            m.multiMatvec(v == 0);
                            CudaDevice.CudaGraph g = dev.capture(stream, () -> m.enqueueDecode(1, stream));
                            row.append(String.format(" %.1f |", 1 / timeGraph(dev, g, stream, start, end, 20)));
                            dev.destroyGraph(g);
                        }
                    }
                    System.out.println(row);
                }
            }
            return;
        }
        String profile = null;
        for (int i = 0; i + 1 < args.length; i++) if (args[i].equals("--profile")) profile = args[i + 1];
        if (profile != null) {  // --profile 1b:Q4_0[,7b:Q8_0...]: per-kernel times of one decode step
            try (CudaDevice dev = CudaDevice.open(probe.driver().orElseThrow(), 0, false)) {
                CudaKernels k = new CudaKernels(dev);
                long stream = dev.createStream();
                for (String spec : profile.split(",")) {
                    String[] p = spec.split(":");
                    LlamaShape shape = p[0].equalsIgnoreCase("7b") ? LlamaShape.LLAMA_2_7B : LlamaShape.LLAMA_3_2_1B;
                    for (boolean staged : new boolean[]{true, false}) {
                        k.stageMatvecInput(staged);
                        System.out.println(staged ? "x staged in shared memory (Q8_0, Q4_0)" : "x read from global memory");
                        System.out.println(profile(k, dev, new Config(shape, GgmlType.valueOf(p[1])), 1, stream));
                    }
                    k.stageMatvecInput(true);
                    System.out.println(profile(k, dev, new Config(shape, GgmlType.valueOf(p[1])), 8, stream));
                }
            }
            return;
        }
        StringBuilder table = new StringBuilder();
        try (CudaDevice dev = CudaDevice.open(probe.driver().orElseThrow(), 0, false)) {
            CudaKernels k = new CudaKernels(dev);
            long stream = dev.createStream();
            long start = dev.createEvent(), end = dev.createEvent();
            double copyBw = copyBandwidth(dev, stream, start, end);
            table.append("# CUDA kernel benchmark, ").append(LocalDate.now(ZoneOffset.UTC)).append(", ").append(dev.name())
                    .append(" (sm_").append(dev.computeCapability()).append(")\n\n");
            table.append(String.format("Device copy bandwidth (1 GiB D2D, read + write): %.0f GB/s%n%n", copyBw / 1e9));
            table.append("Random weights; every kernel of the forward pass, one CUDA graph per step; KV cache f32, context position ")
                    .append(CONTEXT_POS).append(".\n\n");
            table.append("| model | type | weights GB | decode tok/s (1) | % of bound | decode tok/s (8) | decode tok/s (32) | prefill tok/s (512) |\n");
            table.append("|---|---|---|---|---|---|---|---|\n");
            for (Config c : configs) {
                String row = run(k, dev, c, stream, start, end, copyBw, quick);
                table.append(row).append('\n');
                System.out.println(row);
            }
        }
        System.out.println();
        System.out.println(table);
        if (out != null) Files.writeString(out, table.toString());
    }

    private static double copyBandwidth(CudaDevice dev, long stream, long start, long end) {
        long bytes = 1L << 30;
        DeviceBuffer a = dev.memory().allocate("copy src", bytes), b = dev.memory().allocate("copy dst", bytes);
        dev.fill32(a, 0, 0x3C003C00, bytes / 4, stream);
        double[] t = new double[10];
        dev.copyDeviceToDevice(b, 0, a, 0, bytes, stream);  // warm-up
        for (int i = 0; i < t.length; i++) {
            dev.record(start, stream);
            dev.copyDeviceToDevice(b, 0, a, 0, bytes, stream);
            dev.record(end, stream);
            t[i] = dev.elapsedMillis(start, end) / 1e3;
        }
        dev.memory().free(a);
        dev.memory().free(b);
        return 2.0 * bytes / median(t);
    }

    private static String run(CudaKernels k, CudaDevice dev, Config c, long stream, long start, long end, double copyBw, boolean quick) {
        LlamaShape s = c.shape();
        long weightBytes = s.weightBytes(c.type());
        try (RandomLlama m = new RandomLlama(k, s, c.type(), PREFILL, 32, WINDOW, 1234, stream)) {
            double[] decode = new double[3];
            int[] batches = {1, 8, 32};
            for (int i = 0; i < batches.length; i++) {
                int n = batches[i];
                int[] pos = new int[n], slot = new int[n];
                Arrays.fill(pos, CONTEXT_POS);
                for (int j = 0; j < n; j++) slot[j] = j;
                m.setBatch(pos, slot, stream);
                CudaDevice.CudaGraph g = dev.capture(stream, () -> m.enqueueDecode(n, stream));
                double t = timeGraph(dev, g, stream, start, end, quick ? 5 : 20);
                dev.destroyGraph(g);
                int[] next = m.nextTokens(n, stream);
                for (int id : next) {
                    if (id < 0 || id >= s.vocab()) throw new IllegalStateException(c + ": next token " + id + " outside the vocabulary");
                }
                decode[i] = n / t;
            }
            int[] pos = new int[PREFILL], slot = new int[PREFILL];
            for (int j = 0; j < PREFILL; j++) pos[j] = j;
            m.setBatch(pos, slot, stream);
            CudaDevice.CudaGraph g = dev.capture(stream, () -> m.enqueuePrefill(PREFILL, stream));
            double prefill = PREFILL / timeGraph(dev, g, stream, start, end, quick ? 2 : 5);
            dev.destroyGraph(g);
            double bound = copyBw / weightBytes;
            return String.format("| %s | %s | %.2f | %.1f | %.0f%% | %.1f | %.1f | %.0f |", s.name(), c.type(), weightBytes / 1e9,
                    decode[0], 100 * decode[0] / bound, decode[1], decode[2], prefill);
        }
    }

    /** Per-kernel event times of one direct (not captured) decode step of {@code n} sequences, by kernel and grid. */
    private static String profile(CudaKernels k, CudaDevice dev, Config c, int n, long stream) {
        LlamaShape s = c.shape();
        try (RandomLlama m = new RandomLlama(k, s, c.type(), PREFILL, 32, WINDOW, 1234, stream)) {
            int[] pos = new int[n], slot = new int[n];
            Arrays.fill(pos, CONTEXT_POS);
            for (int j = 0; j < n; j++) slot[j] = j;
            m.setBatch(pos, slot, stream);
            m.enqueueDecode(n, stream);  // warm-up
            // Enqueueing a launch and its two events takes the host far longer than most of these kernels run,
            // so the device is first given ~150 ms of copies: the step's launches queue up behind them and
            // then run back to back, as in a graph, and each pair of events brackets its kernel alone.
            long stallBytes = 512L << 20;
            DeviceBuffer sa = dev.memory().allocate("stall src", stallBytes), sb = dev.memory().allocate("stall dst", stallBytes);
            for (int i = 0; i < 400; i++) dev.copyDeviceToDevice(sb, 0, sa, 0, stallBytes, stream);
            List<long[]> events = new ArrayList<>();
            List<String> names = new ArrayList<>();
            k.observeLaunches(new CudaKernels.LaunchObserver() {
                private int next;

                @Override
                public void before(dev.jllm.cuda.kernels.Kernel kernel, dev.jllm.cuda.ffm.LaunchConfig cfg, long st) {
                    if (next == events.size()) events.add(new long[]{dev.createEvent(), dev.createEvent()});
                    names.add(kernel.name().toLowerCase() + " grid " + cfg.gridX() + "x" + cfg.gridY() + "x" + cfg.gridZ());
                    dev.record(events.get(next)[0], st);
                }

                @Override
                public void after(dev.jllm.cuda.kernels.Kernel kernel, dev.jllm.cuda.ffm.LaunchConfig cfg, long st) {
                    dev.record(events.get(next++)[1], st);
                }
            });
            m.enqueueDecode(n, stream);
            k.observeLaunches(null);
            dev.synchronize(stream);
            dev.memory().free(sa);
            dev.memory().free(sb);
            double span = 1e3 * dev.elapsedMillis(events.get(0)[0], events.get(names.size() - 1)[1]);
            java.util.Map<String, double[]> byName = new java.util.LinkedHashMap<>();
            double total = 0;
            for (int i = 0; i < names.size(); i++) {
                double us = 1e3 * dev.elapsedMillis(events.get(i)[0], events.get(i)[1]);
                total += us;
                double[] a = byName.computeIfAbsent(names.get(i), x -> new double[2]);
                a[0]++;
                a[1] += us;
            }
            StringBuilder out = new StringBuilder(String.format("%n## %s %s, decode of %d sequence(s): %d launches, %.1f us in kernels, %.1f us first to last%n",
                    s.name(), c.type(), n, names.size(), total, span));
            final double all = total;
            byName.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue()[1], a.getValue()[1])).forEach(e ->
                    out.append(String.format("%8.1f us %5.1f%%  %4d x %7.2f us  %s%n", e.getValue()[1], 100 * e.getValue()[1] / all,
                            (int) e.getValue()[0], e.getValue()[1] / e.getValue()[0], e.getKey())));
            return out.toString();
        }
    }

    /** Median seconds of {@code reps} event-timed replays after two warm-ups. */
    private static double timeGraph(CudaDevice dev, CudaDevice.CudaGraph g, long stream, long start, long end, int reps) {
        dev.launchGraph(g, stream);
        dev.launchGraph(g, stream);
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            dev.record(start, stream);
            dev.launchGraph(g, stream);
            dev.record(end, stream);
            t[i] = dev.elapsedMillis(start, end) / 1e3;
        }
        return median(t);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
