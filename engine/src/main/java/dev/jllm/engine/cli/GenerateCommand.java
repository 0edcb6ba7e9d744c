package dev.jllm.engine.cli;

import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.LoadOptions;
import dev.jllm.engine.Models;
import dev.jllm.engine.kv.KvCache;
import dev.jllm.engine.kv.KvCacheOptions;
import dev.jllm.engine.kv.KvType;
import dev.jllm.engine.sample.Sampler;
import dev.jllm.engine.sample.SamplingParams;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/** {@code generate}: prefill a prompt, then sample tokens until EOS or {@code --max-tokens}. */
final class GenerateCommand {
    static final String USAGE = "--model FILE (--prompt TEXT | --prompt-ids 1,2,3) [--max-tokens N] [--temperature T]"
            + " [--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R] [--seed S] [--threads N] [--ctx N]"
            + " [--kv-type f32|f16] [--sliding-window N] [--prefill-chunk N] [--ignore-eos] [--json]";

    private GenerateCommand() {
    }

    static int run(List<String> argv) throws Exception {
        Args a = new Args("generate", argv,
                Set.of("model", "prompt", "prompt-ids", "max-tokens", "temperature", "top-k", "top-p", "min-p",
                        "repeat-penalty", "seed", "threads", "ctx", "kv-type", "sliding-window", "prefill-chunk"),
                Set.of("json", "ignore-eos"));
        Path modelPath = Path.of(a.require("model"));
        if (a.has("prompt") == a.has("prompt-ids")) throw new Args.UsageException("generate: give exactly one of --prompt, --prompt-ids");
        int maxTokens = a.getInt("max-tokens", 128);
        SamplingParams params = SamplingParams.builder()
                .temperature(a.getFloat("temperature", 0.8f))
                .topK(a.getInt("top-k", 40))
                .topP(a.getFloat("top-p", 0.95f))
                .minP(a.getFloat("min-p", 0.05f))
                .repetitionPenalty(a.getFloat("repeat-penalty", 1f))
                .seed(a.getLong("seed", 0))
                .build();
        boolean json = a.flag("json");
        LoadOptions opts = options(a);
        KvType kvType = kvType(a);

        if (!java.nio.file.Files.exists(modelPath)) throw new java.nio.file.NoSuchFileException(modelPath + ": model not found");
        TextCodec codec = TextCodec.forModel(modelPath);
        int[] prompt = a.has("prompt-ids") ? a.ids("prompt-ids") : codec.encode(a.require("prompt"));
        try (LanguageModel m = Models.load(modelPath, opts)) {
            KvCache cache = m.newCache(new KvCacheOptions(kvType, a.getInt("ctx", 0)));
            Sampler sampler = new Sampler(params);
            int eos = a.flag("ignore-eos") ? -1 : m.config().eosId();
            int[] history = Arrays.copyOf(prompt, prompt.length + maxTokens);
            int n = prompt.length;
            int[] ids = new int[maxTokens];
            int generated = 0;

            long t0 = System.nanoTime();
            float[] logits = m.forward(cache, prompt);
            long t1 = System.nanoTime();
            long decodeNanos = 0;
            int decodeSteps = 0;
            int printed = 0;
            while (generated < maxTokens) {
                int tok = sampler.sample(logits, history, n).token();
                ids[generated++] = tok;
                history[n++] = tok;
                if (!json && codec.canDecode()) printed = stream(codec, ids, generated, printed);
                if (tok == eos || generated == maxTokens || cache.remaining() == 0) break;
                long s = System.nanoTime();
                logits = m.forward(cache, tok);
                decodeNanos += System.nanoTime() - s;
                decodeSteps++;
            }
            ids = Arrays.copyOf(ids, generated);
            double prefillTps = prompt.length / ((t1 - t0) / 1e9);
            double decodeTps = decodeSteps == 0 ? Double.NaN : decodeSteps / (decodeNanos / 1e9);
            if (json) {
                Json j = new Json().field("prompt_ids", prompt).field("ids", ids);
                codec.decode(ids).ifPresent(t -> j.field("text", t));
                j.field("prefill_tokens_per_s", prefillTps).field("decode_tokens_per_s", decodeTps);
                System.out.println(j);
            } else {
                if (!codec.canDecode()) System.out.println(Arrays.toString(ids));
                else System.out.println();
                System.err.printf("prompt %d tokens, %.1f tokens/s; generated %d tokens, %.1f tokens/s (%s, %d threads)%n",
                        prompt.length, prefillTps, generated, decodeTps, m.backend(),
                        dev.jllm.engine.tensor.MatOps.threads());
            }
        }
        return 0;
    }

    /** Prints the text of ids[0..n) beyond the {@code printed} characters already out; returns the new count. */
    private static int stream(TextCodec codec, int[] ids, int n, int printed) {
        String text = codec.decode(Arrays.copyOf(ids, n)).orElse("");
        // hold back a trailing replacement char: a multi-byte character may be incomplete
        int end = text.length();
        while (end > printed && text.charAt(end - 1) == '\uFFFD') end--;
        if (end > printed) {
            System.out.print(text.substring(printed, end));
            System.out.flush();
            return end;
        }
        return printed;
    }

    static LoadOptions options(Args a) {
        LoadOptions o = LoadOptions.DEFAULT.withThreads(a.getInt("threads", 0));
        if (a.has("sliding-window")) o = o.withSlidingWindow(a.getInt("sliding-window", 0));
        if (a.has("prefill-chunk")) o = o.withPrefillChunk(a.getInt("prefill-chunk", 0));
        return o;
    }

    static KvType kvType(Args a) {
        String t = a.get("kv-type", "f32");
        return switch (t.toLowerCase()) {
            case "f32" -> KvType.F32;
            case "f16" -> KvType.F16;
            default -> throw new Args.UsageException(a + ": --kv-type must be f32 or f16, got '" + t + "'");
        };
    }
}
