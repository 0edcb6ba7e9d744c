package dev.jllm.engine.safetensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The weights of a Hugging Face model folder: either one {@code model.safetensors} or shards listed by
 * {@code model.safetensors.index.json} ({@code {"weight_map": {tensor: shard file}}}). Every shard is mapped once;
 * a tensor listed by the index must be in the shard it names.
 */
public final class SafetensorsModel implements AutoCloseable {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final Path dir;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsTensor> tensors;

    private SafetensorsModel(Path dir, List<SafetensorsFile> files, Map<String, SafetensorsTensor> tensors) {
        this.dir = dir;
        this.files = files;
        this.tensors = tensors;
    }

    /** Opens the weights of the model folder {@code dir} (index first, else the single file). */
    public static SafetensorsModel open(Path dir) throws IOException {
        Path index = dir.resolve(INDEX_FILE);
        if (Files.isRegularFile(index)) return openIndexed(dir, index);
        Path single = dir.resolve(SINGLE_FILE);
        if (!Files.isRegularFile(single)) {
            throw new IOException("no " + SINGLE_FILE + " or " + INDEX_FILE + " in " + dir);
        }
        SafetensorsFile f = SafetensorsFile.open(single);
        return new SafetensorsModel(dir, List.of(f), f.tensors());
    }

    private static SafetensorsModel openIndexed(Path dir, Path index) throws IOException {
        Object root;
        try {
            root = Json.parse(Files.readString(index));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(index + ": " + e.getMessage(), e);
        }
        if (!(root instanceof Map<?, ?> m) || !(m.get("weight_map") instanceof Map<?, ?> weightMap)) {
            throw new IllegalArgumentException(index + ": no \"weight_map\" object");
        }
        Map<String, String> shardOf = new TreeMap<>();
        for (Map.Entry<?, ?> e : weightMap.entrySet()) {
            if (!(e.getValue() instanceof String shard) || shard.contains("/") || shard.contains("\\")) {
                throw new IllegalArgumentException(index + ": weight_map entry for '" + e.getKey() + "' is not a file name");
            }
            shardOf.put((String) e.getKey(), shard);
        }
        Map<String, SafetensorsFile> opened = new LinkedHashMap<>();
        List<SafetensorsFile> files = new ArrayList<>();
        try {
            for (String shard : Set.copyOf(shardOf.values()).stream().sorted().toList()) {
                SafetensorsFile f = SafetensorsFile.open(dir.resolve(shard));
                opened.put(shard, f);
                files.add(f);
            }
            Map<String, SafetensorsTensor> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : shardOf.entrySet()) {
                SafetensorsFile f = opened.get(e.getValue());
                SafetensorsTensor t = f.tensors().get(e.getKey());
                if (t == null) {
                    throw new IllegalArgumentException(index + " puts tensor '" + e.getKey() + "' in " + e.getValue()
                            + " but that shard does not hold it");
                }
                tensors.put(e.getKey(), t);
            }
            return new SafetensorsModel(dir, List.copyOf(files), Collections.unmodifiableMap(tensors));
        } catch (IOException | RuntimeException e) {
            for (SafetensorsFile f : files) f.close();
            throw e;
        }
    }

    public Path dir() {
        return dir;
    }

    public Map<String, SafetensorsTensor> tensors() {
        return tensors;
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    /** The tensor called {@code name}, or an error naming it and the folder. */
    public SafetensorsTensor tensor(String name) {
        SafetensorsTensor t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException("tensor '" + name + "' not found in the safetensors of " + dir);
        return t;
    }

    @Override
    public void close() {
        for (SafetensorsFile f : files) f.close();
    }
}
