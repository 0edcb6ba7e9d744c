package dev.jllm.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * A GGUF (v2/v3) file, memory-mapped through FFM. The header (metadata and tensor table) is parsed once
 * on {@link #open}; tensor data stays in the mapping and is handed out as read-only {@link MemorySegment}
 * slices, so no weight is copied onto the heap.
 *
 * <p>Metadata values are {@link String}, {@link Long} (every integer type), {@link Double} (f32/f64),
 * {@link Boolean}, or an unmodifiable {@link List} of those for arrays. Format errors and missing keys
 * raise {@link GgufException} naming the file and the key or tensor.
 *
 * <p>Arrays are views of the mapping, decoded on access (a vocabulary costs no heap while the file is open);
 * copy what you keep. Closing the file unmaps it: segments from {@link #data} and metadata arrays must not be
 * used afterwards (they fail with an {@link IllegalStateException}). The mapping's
 * arena is shared, so data segments can be read from any thread.
 */
public final class GgufFile implements AutoCloseable {
    /** "GGUF" read as a little-endian u32. */
    public static final int MAGIC = 0x46554747;
    public static final int DEFAULT_ALIGNMENT = 32;
    public static final String ALIGNMENT_KEY = "general.alignment";

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    // GGUF metadata value type ids
    private static final int T_U8 = 0, T_I8 = 1, T_U16 = 2, T_I16 = 3, T_U32 = 4, T_I32 = 5, T_F32 = 6,
            T_BOOL = 7, T_STRING = 8, T_ARRAY = 9, T_U64 = 10, T_I64 = 11, T_F64 = 12;

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final int version;
    private final Map<String, Object> metadata;
    private final List<TensorInfo> tensors;
    private final Map<String, TensorInfo> tensorsByName;
    private final long dataStart;
    private final int alignment;

    private GgufFile(Path path, Arena arena, MemorySegment file, int version, Map<String, Object> metadata,
                     List<TensorInfo> tensors, long dataStart, int alignment) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.dataStart = dataStart;
        this.alignment = alignment;
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        for (TensorInfo t : tensors) byName.put(t.name(), t);
        this.tensorsByName = Collections.unmodifiableMap(byName);
    }

    /** Maps and parses {@code path}. */
    public static GgufFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg;
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                long size = ch.size();
                seg = size == 0 ? MemorySegment.ofArray(new byte[0]) : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            }
            return parse(path, arena, seg.asReadOnly());
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static GgufFile parse(Path path, Arena arena, MemorySegment seg) {
        Reader r = new Reader(path, seg);
        r.context = "header";
        int magic = r.i32();
        if (magic != MAGIC) {
            throw new GgufException(path + ": not a GGUF file (bad magic 0x" + Integer.toHexString(magic) + ")");
        }
        int version = r.i32();
        if (version != 2 && version != 3) {
            throw new GgufException(path + ": unsupported GGUF version " + version + " (supported: 2, 3)");
        }
        long tensorCount = r.i64();
        long kvCount = r.i64();
        if (tensorCount < 0 || tensorCount > seg.byteSize() || kvCount < 0 || kvCount > seg.byteSize()) {
            throw new GgufException(path + ": implausible header counts (tensors " + tensorCount + ", metadata " + kvCount + ")");
        }
        Map<String, Object> md = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            r.context = "metadata entry #" + i;
            String key = r.string();
            r.context = "metadata key '" + key + "'";
            int type = r.i32();
            md.put(key, r.value(type));
        }
        int alignment = DEFAULT_ALIGNMENT;
        Object a = md.get(ALIGNMENT_KEY);
        if (a != null) {
            if (!(a instanceof Long l) || l <= 0 || l > (1 << 20) || (l & (l - 1)) != 0) {
                throw new GgufException(path + ": metadata key '" + ALIGNMENT_KEY + "' must be a power-of-two integer, got " + a);
            }
            alignment = (int) (long) l;
        }
        List<TensorInfo> infos = new ArrayList<>((int) tensorCount);
        java.util.Set<String> names = new java.util.HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            r.context = "tensor info #" + i;
            String name = r.string();
            r.context = "tensor '" + name + "'";
            int nDims = r.i32();
            if (nDims < 1 || nDims > 4) {
                throw new GgufException(path + ": tensor '" + name + "' has " + nDims + " dimensions (1 to 4 allowed)");
            }
            long[] shape = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                shape[d] = r.i64();
                if (shape[d] <= 0) {
                    throw new GgufException(path + ": tensor '" + name + "' has dimension " + d + " = " + shape[d]);
                }
                elements = Math.multiplyExact(elements, shape[d]);
            }
            int typeId = r.i32();
            GgmlType type;
            try {
                type = GgmlType.fromId(typeId);
            } catch (IllegalArgumentException e) {
                throw new GgufException(path + ": tensor '" + name + "' has unknown type id " + typeId, e);
            }
            long offset = r.i64();
            if (shape[0] % type.blockSize != 0) {
                throw new GgufException(path + ": tensor '" + name + "' of type " + type + " has row length " + shape[0]
                        + ", not a multiple of its block size " + type.blockSize);
            }
            if (offset < 0 || offset % alignment != 0) {
                throw new GgufException(path + ": tensor '" + name + "' data offset " + offset + " is not aligned to " + alignment);
            }
            if (!names.add(name)) {
                throw new GgufException(path + ": tensor '" + name + "' appears twice");
            }
            infos.add(new TensorInfo(name, type, shape, offset, type.bytesFor(elements)));
        }
        long dataStart = alignUp(r.pos, alignment);
        long dataSize = seg.byteSize() - dataStart;
        for (TensorInfo t : infos) {
            if (t.offset() + t.byteSize() > dataSize) {
                throw new GgufException(path + ": tensor '" + t.name() + "' data [" + t.offset() + ", " + (t.offset() + t.byteSize())
                        + ") runs past the end of the file (data section holds " + Math.max(0, dataSize) + " bytes): truncated file?");
            }
        }
        return new GgufFile(path, arena, seg, version, Collections.unmodifiableMap(md), List.copyOf(infos), dataStart, alignment);
    }

    private static String typeName(int t) {
        return switch (t) {
            case T_U8 -> "u8"; case T_I8 -> "i8"; case T_U16 -> "u16"; case T_I16 -> "i16"; case T_U32 -> "u32";
            case T_I32 -> "i32"; case T_F32 -> "f32"; case T_BOOL -> "bool"; case T_STRING -> "string";
            case T_U64 -> "u64"; case T_I64 -> "i64"; case T_F64 -> "f64"; default -> "type " + t;
        };
    }

    private static long alignUp(long x, long a) {
        return (x + a - 1) / a * a;
    }

    /** The file this was opened from. */
    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    /** Alignment of tensor data (from {@code general.alignment}, default 32). */
    public int alignment() {
        return alignment;
    }

    /** Byte offset of the data section within the file. */
    public long dataStart() {
        return dataStart;
    }

    /** All metadata, in file order (unmodifiable). */
    public Map<String, Object> metadata() {
        return metadata;
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    private Object require(String key) {
        Object v = metadata.get(key);
        if (v == null) throw new GgufException(path + ": metadata key '" + key + "' is missing");
        return v;
    }

    private GgufException wrongType(String key, String expected, Object v) {
        return new GgufException(path + ": metadata key '" + key + "' should be " + expected + " but is " + describe(v));
    }

    private static String describe(Object v) {
        if (v instanceof MappedArray m) return "an array of " + m.size() + " " + typeName(m.type);
        if (v instanceof List<?> l) return "an array of " + l.size();
        return "a " + v.getClass().getSimpleName() + " (" + v + ")";
    }

    public String getString(String key) {
        Object v = require(key);
        if (v instanceof String s) return s;
        throw wrongType(key, "a string", v);
    }

    public Optional<String> findString(String key) {
        return metadata.containsKey(key) ? Optional.of(getString(key)) : Optional.empty();
    }

    /** Any integer type. */
    public long getLong(String key) {
        Object v = require(key);
        if (v instanceof Long l) return l;
        throw wrongType(key, "an integer", v);
    }

    public OptionalLong findLong(String key) {
        return metadata.containsKey(key) ? OptionalLong.of(getLong(key)) : OptionalLong.empty();
    }

    /** Any float type (integers are accepted too: some writers store e.g. a RoPE base as an integer). */
    public double getDouble(String key) {
        Object v = require(key);
        if (v instanceof Double d) return d;
        if (v instanceof Long l) return l;
        throw wrongType(key, "a number", v);
    }

    public OptionalDouble findDouble(String key) {
        return metadata.containsKey(key) ? OptionalDouble.of(getDouble(key)) : OptionalDouble.empty();
    }

    public boolean getBoolean(String key) {
        Object v = require(key);
        if (v instanceof Boolean b) return b;
        throw wrongType(key, "a boolean", v);
    }

    public Optional<Boolean> findBoolean(String key) {
        return metadata.containsKey(key) ? Optional.of(getBoolean(key)) : Optional.empty();
    }

    private List<?> array(String key) {
        Object v = require(key);
        if (v instanceof List<?> l) return l;
        throw wrongType(key, "an array", v);
    }

    @SuppressWarnings("unchecked")
    public List<String> getStringArray(String key) {
        List<?> l = array(key);
        if (l instanceof MappedArray m) {
            if (!m.isStrings() && m.size() > 0) throw wrongType(key, "an array of strings", l);
            return (List<String>) l;
        }
        for (Object o : l) {
            if (!(o instanceof String)) throw wrongType(key, "an array of strings", l);
        }
        return (List<String>) l;
    }

    /** An array of any numeric type, as floats. */
    public float[] getFloatArray(String key) {
        List<?> l = array(key);
        if (l instanceof MappedArray m && !m.isNumbers() && m.size() > 0) throw wrongType(key, "an array of numbers", l);
        float[] out = new float[l.size()];
        for (int i = 0; i < out.length; i++) {
            Object o = l.get(i);
            if (o instanceof Double d) out[i] = (float) (double) d;
            else if (o instanceof Long x) out[i] = x;
            else throw wrongType(key, "an array of numbers", l);
        }
        return out;
    }

    /** An array of any integer type, as ints (an exception names the key if a value does not fit). */
    public int[] getIntArray(String key) {
        List<?> l = array(key);
        if (l instanceof MappedArray m && !m.isIntegers() && m.size() > 0) throw wrongType(key, "an array of integers", l);
        int[] out = new int[l.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(l.get(i) instanceof Long x)) throw wrongType(key, "an array of integers", l);
            if (x < Integer.MIN_VALUE || x > 0xFFFFFFFFL) {
                throw new GgufException(path + ": metadata key '" + key + "' element " + i + " = " + x + " does not fit an int");
            }
            out[i] = (int) (long) x;
        }
        return out;
    }

    /** Tensors in file order. */
    public List<TensorInfo> tensors() {
        return tensors;
    }

    public Optional<TensorInfo> findTensor(String name) {
        return Optional.ofNullable(tensorsByName.get(name));
    }

    public TensorInfo tensor(String name) {
        TensorInfo t = tensorsByName.get(name);
        if (t == null) throw new GgufException(path + ": tensor '" + name + "' is missing");
        return t;
    }

    /** A read-only slice of the mapping holding {@code t}'s data. */
    public MemorySegment data(TensorInfo t) {
        return file.asSlice(dataStart + t.offset(), t.byteSize());
    }

    /** Total bytes of tensor data. */
    public long tensorBytes() {
        long n = 0;
        for (TensorInfo t : tensors) n += t.byteSize();
        return n;
    }

    /** Unmaps the file. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }

    @Override
    public String toString() {
        return "GgufFile[" + path + ", v" + version + ", " + metadata.size() + " keys, " + tensors.size() + " tensors]";
    }

    /** Bytes of one element of a fixed-size metadata type, 0 for strings. */
    private static int elementBytes(int type) {
        return switch (type) {
            case T_U8, T_I8, T_BOOL -> 1;
            case T_U16, T_I16 -> 2;
            case T_U32, T_I32, T_F32 -> 4;
            case T_U64, T_I64, T_F64 -> 8;
            default -> 0;
        };
    }

    /**
     * A metadata array left in the mapping: elements are decoded on access, so a 128k-token vocabulary or 280k
     * merges cost no heap while the file is open (strings keep one int offset each).
     */
    private static final class MappedArray extends java.util.AbstractList<Object> implements java.util.RandomAccess {
        final MemorySegment seg;
        final long start;
        final int type;
        final int size;
        final int[] offsets; // strings: offset of element i from start; null for fixed-size types

        MappedArray(MemorySegment seg, long start, int type, int size, int[] offsets) {
            this.seg = seg;
            this.start = start;
            this.type = type;
            this.size = size;
            this.offsets = offsets;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public Object get(int i) {
            java.util.Objects.checkIndex(i, size);
            if (type == T_STRING) {
                long at = start + offsets[i];
                long len = seg.get(I64, at);
                return new String(seg.asSlice(at + 8, len).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            }
            long at = start + (long) i * elementBytes(type);
            return switch (type) {
                case T_U8 -> (long) (seg.get(ValueLayout.JAVA_BYTE, at) & 0xFF);
                case T_I8 -> (long) seg.get(ValueLayout.JAVA_BYTE, at);
                case T_BOOL -> seg.get(ValueLayout.JAVA_BYTE, at) != 0;
                case T_U16 -> (long) (seg.get(I16, at) & 0xFFFF);
                case T_I16 -> (long) seg.get(I16, at);
                case T_U32 -> seg.get(I32, at) & 0xFFFFFFFFL;
                case T_I32 -> (long) seg.get(I32, at);
                case T_U64, T_I64 -> seg.get(I64, at);
                case T_F32 -> (double) seg.get(F32, at);
                case T_F64 -> seg.get(F64, at);
                default -> throw new AssertionError(type);
            };
        }

        boolean isStrings() {
            return type == T_STRING;
        }

        boolean isIntegers() {
            return type != T_STRING && type != T_F32 && type != T_F64 && type != T_BOOL;
        }

        boolean isNumbers() {
            return type != T_STRING && type != T_BOOL;
        }
    }

    /** Bounds-checked little-endian cursor over the header. */
    private static final class Reader {
        final Path path;
        final MemorySegment seg;
        long pos;
        String context = "";

        Reader(Path path, MemorySegment seg) {
            this.path = path;
            this.seg = seg;
        }

        private void need(long n) {
            if (n < 0 || pos + n > seg.byteSize()) {
                throw new GgufException(path + ": truncated file: " + context + " needs " + n + " bytes at offset " + pos
                        + " but the file has " + seg.byteSize());
            }
        }

        int u8() {
            need(1);
            return seg.get(ValueLayout.JAVA_BYTE, pos++) & 0xFF;
        }

        int i32() {
            need(4);
            int v = seg.get(I32, pos);
            pos += 4;
            return v;
        }

        long i64() {
            need(8);
            long v = seg.get(I64, pos);
            pos += 8;
            return v;
        }

        short i16() {
            need(2);
            short v = seg.get(I16, pos);
            pos += 2;
            return v;
        }

        String string() {
            long len = i64();
            if (len < 0 || len > Integer.MAX_VALUE) {
                throw new GgufException(path + ": " + context + ": string length " + len + " at offset " + (pos - 8) + " is invalid");
            }
            need(len);
            byte[] b = seg.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
            pos += len;
            return new String(b, StandardCharsets.UTF_8);
        }

        /** An array of {@code n} elements of {@code type} at the cursor, left in the mapping; moves past it. */
        Object array(int type, int n) {
            long start = pos;
            if (type == T_STRING) {
                if (pos - start > Integer.MAX_VALUE) throw new GgufException(path + ": " + context + ": array too large");
                int[] offsets = new int[n];
                for (int i = 0; i < n; i++) {
                    if (pos - start > Integer.MAX_VALUE) throw new GgufException(path + ": " + context + ": array too large");
                    offsets[i] = (int) (pos - start);
                    long len = i64();
                    if (len < 0 || len > Integer.MAX_VALUE) {
                        throw new GgufException(path + ": " + context + ": string length " + len + " of element " + i + " is invalid");
                    }
                    need(len);
                    pos += len;
                }
                return new MappedArray(seg, start, type, n, offsets);
            }
            int size = elementBytes(type);
            if (size == 0) throw new GgufException(path + ": " + context + ": unknown metadata value type " + type);
            need((long) n * size);
            if (type == T_BOOL) {
                for (int i = 0; i < n; i++) {
                    int b = seg.get(ValueLayout.JAVA_BYTE, pos + i) & 0xFF;
                    if (b > 1) throw new GgufException(path + ": " + context + ": boolean byte " + b + " is neither 0 nor 1");
                }
            }
            pos += (long) n * size;
            return new MappedArray(seg, start, type, n, null);
        }

        Object value(int type) {
            return switch (type) {
                case T_U8 -> (long) u8();
                case T_I8 -> (long) (byte) u8();
                case T_U16 -> (long) (i16() & 0xFFFF);
                case T_I16 -> (long) i16();
                case T_U32 -> i32() & 0xFFFFFFFFL;
                case T_I32 -> (long) i32();
                case T_U64, T_I64 -> i64();
                case T_F32 -> {
                    need(4);
                    float f = seg.get(F32, pos);
                    pos += 4;
                    yield (double) f;
                }
                case T_F64 -> {
                    need(8);
                    double d = seg.get(F64, pos);
                    pos += 8;
                    yield d;
                }
                case T_BOOL -> {
                    int b = u8();
                    if (b > 1) throw new GgufException(path + ": " + context + ": boolean byte " + b + " is neither 0 nor 1");
                    yield b == 1;
                }
                case T_STRING -> string();
                case T_ARRAY -> {
                    int et = i32();
                    long n = i64();
                    if (et == T_ARRAY) throw new GgufException(path + ": " + context + ": nested arrays are not supported");
                    if (n < 0 || n > seg.byteSize() - pos) {
                        throw new GgufException(path + ": truncated file: " + context + " declares " + n
                                + " array elements, more than the file holds");
                    }
                    yield array(et, (int) n);
                }
                default -> throw new GgufException(path + ": " + context + ": unknown metadata value type " + type);
            };
        }
    }
}
