package dev.jllm.engine.model.hf;

import dev.jllm.engine.safetensors.Json;
import dev.jllm.engine.sample.SamplingParams;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A model folder's {@code generation_config.json}: the stop tokens (Llama 3 lists several) and the sampling defaults
 * the model's authors recommend, as vLLM applies them when a request leaves a field unset.
 *
 * @param eosIds   end-of-sequence ids ({@code eos_token_id}, a number or a list); empty when unknown
 * @param defaults sampling defaults: greedy when {@code do_sample} is false, else {@code temperature}, {@code top_k},
 *                 {@code top_p}, {@code min_p}, {@code repetition_penalty} where given (transformers' defaults
 *                 otherwise: temperature 1, top-k 50, top-p 1)
 */
public record HfGenerationConfig(int[] eosIds, SamplingParams defaults) {
    public static final String FILE = "generation_config.json";

    public HfGenerationConfig {
        eosIds = eosIds.clone();
    }

    @Override
    public int[] eosIds() {
        return eosIds.clone();
    }

    /** Reads {@code dir/generation_config.json}; a missing file gives no stop ids and greedy defaults. */
    public static HfGenerationConfig read(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) return new HfGenerationConfig(new int[0], SamplingParams.greedy());
        return parse(Files.readString(file), file.toString());
    }

    public static HfGenerationConfig parse(String text, String source) {
        Object root;
        try {
            root = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
        if (!(root instanceof Map<?, ?> m)) throw new IllegalArgumentException(source + ": not a JSON object");
        Object eos = m.get("eos_token_id");
        List<?> eosList = eos instanceof List<?> l ? l : eos == null ? List.of() : List.of(eos);
        int[] ids = new int[eosList.size()];
        for (int i = 0; i < ids.length; i++) {
            if (!(eosList.get(i) instanceof Long v)) throw new IllegalArgumentException(source + ": eos_token_id " + eos);
            ids[i] = (int) (long) v;
        }
        SamplingParams.Builder b = SamplingParams.builder();
        boolean sample = m.get("do_sample") instanceof Boolean d && d;
        if (!sample) {
            b.temperature(0);
        } else {
            b.temperature((float) number(m, "temperature", 1.0, source));
            b.topK((int) number(m, "top_k", 50, source));
            b.topP((float) number(m, "top_p", 1.0, source));
            b.minP((float) number(m, "min_p", 0.0, source));
        }
        b.repetitionPenalty((float) number(m, "repetition_penalty", 1.0, source));
        return new HfGenerationConfig(ids, b.build());
    }

    private static double number(Map<?, ?> m, String key, double dflt, String source) {
        Object v = m.get(key);
        if (v == null) return dflt;
        if (!(v instanceof Number n)) throw new IllegalArgumentException(source + ": '" + key + "' must be a number, got " + v);
        return n.doubleValue();
    }
}
