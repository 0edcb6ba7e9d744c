package dev.jllm.engine.safetensors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@code .safetensors} file, memory-mapped through FFM (the weights are never copied onto the heap).
 *
 * <p>Layout: an unsigned little-endian 64-bit header length {@code N}; {@code N} bytes of UTF-8 JSON mapping each
 * tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (offsets relative to the byte buffer that
 * follows the header) plus an optional {@code "__metadata__"} string map; then the byte buffer. Every entry is
 * checked when the file is opened: a bad header, an unknown dtype, a size that does not match the shape or
 * offsets past the end of the file give an error naming the file and the tensor.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Largest header accepted (the reference implementation's limit is 100 MB). */
    static final long MAX_HEADER_BYTES = 100L << 20;

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapped;
    private final Map<String, SafetensorsTensor> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, MemorySegment mapped, Map<String, SafetensorsTensor> tensors,
                            Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.mapped = mapped;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Maps {@code file} read-only and validates its header. */
    public static SafetensorsFile open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment seg = size == 0 ? MemorySegment.NULL : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            SafetensorsFile f = parse(file, arena, seg, size);
            return f;
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static SafetensorsFile parse(Path file, Arena arena, MemorySegment seg, long size) {
        if (size < 8) throw bad(file, "file is " + size + " bytes, shorter than the 8-byte header length");
        long n = seg.get(U64, 0);
        if (n < 2 || n > MAX_HEADER_BYTES) throw bad(file, "header length " + Long.toUnsignedString(n) + " is not plausible");
        if (8 + n > size) throw bad(file, "header length " + n + " runs past the end of the file (" + size + " bytes)");
        String text = new String(seg.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        Object root;
        try {
            root = Json.parse(text.stripTrailing()); // writers may pad the header with spaces
        } catch (IllegalArgumentException e) {
            throw bad(file, "header is not valid JSON: " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> map)) throw bad(file, "header is not a JSON object");
        long dataStart = 8 + n;
        long dataSize = size - dataStart;
        Map<String, SafetensorsTensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals("__metadata__")) {
                if (!(e.getValue() instanceof Map<?, ?> md)) throw bad(file, "__metadata__ is not an object");
                for (Map.Entry<?, ?> m : md.entrySet()) {
                    if (!(m.getValue() instanceof String v)) throw bad(file, "__metadata__." + m.getKey() + " is not a string");
                    metadata.put((String) m.getKey(), v);
                }
                continue;
            }
            if (!(e.getValue() instanceof Map<?, ?> info)) throw badTensor(file, name, "entry is not an object");
            if (!(info.get("dtype") instanceof String dtype)) throw badTensor(file, name, "missing dtype");
            int elementBytes = elementBytes(dtype);
            if (elementBytes < 0) throw badTensor(file, name, "unknown dtype " + dtype);
            if (!(info.get("shape") instanceof List<?> shapeList)) throw badTensor(file, name, "missing shape");
            long[] shape = new long[shapeList.size()];
            long count = 1;
            for (int i = 0; i < shape.length; i++) {
                if (!(shapeList.get(i) instanceof Long d) || d < 0) throw badTensor(file, name, "bad shape " + shapeList);
                shape[i] = d;
                count = Math.multiplyExact(count, d);
            }
            if (!(info.get("data_offsets") instanceof List<?> off) || off.size() != 2
                    || !(off.get(0) instanceof Long begin) || !(off.get(1) instanceof Long end)) {
                throw badTensor(file, name, "data_offsets must be [begin, end]");
            }
            if (begin < 0 || end < begin) throw badTensor(file, name, "data_offsets " + off + " are not ordered");
            if (end > dataSize) {
                throw badTensor(file, name, "data_offsets end " + end + " is past the end of the data (" + dataSize
                        + " bytes): truncated file?");
            }
            long expected = Math.multiplyExact(count, elementBytes);
            if (end - begin != expected) {
                throw badTensor(file, name, "holds " + (end - begin) + " bytes but " + dtype + java.util.Arrays.toString(shape)
                        + " needs " + expected);
            }
            tensors.put(name, new SafetensorsTensor(name, dtype, shape, seg.asSlice(dataStart + begin, end - begin), file));
        }
        return new SafetensorsFile(file, arena, seg, Collections.unmodifiableMap(tensors),
                Collections.unmodifiableMap(metadata));
    }

    /** Bytes per element of a safetensors dtype, -1 when unknown. */
    static int elementBytes(String dtype) {
        return switch (dtype) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2" -> 1;
            default -> -1;
        };
    }

    private static IllegalArgumentException bad(Path file, String what) {
        return new IllegalArgumentException("bad safetensors file " + file + ": " + what);
    }

    private static IllegalArgumentException badTensor(Path file, String tensor, String what) {
        return new IllegalArgumentException("bad safetensors file " + file + ": tensor '" + tensor + "': " + what);
    }

    public Path path() {
        return path;
    }

    /** All tensors, in header order. */
    public Map<String, SafetensorsTensor> tensors() {
        return tensors;
    }

    /** The {@code __metadata__} map (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The tensor called {@code name}, or an error naming it and the file. */
    public SafetensorsTensor tensor(String name) {
        SafetensorsTensor t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException("tensor '" + name + "' not found in " + path);
        return t;
    }

    /** Bytes mapped (the whole file). */
    public long byteSize() {
        return mapped.byteSize();
    }

    /** Unmaps the file; tensors read from it must not be used afterwards. */
    @Override
    public void close() {
        arena.close();
    }
}
