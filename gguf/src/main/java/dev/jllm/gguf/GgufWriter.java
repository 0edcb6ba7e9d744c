package dev.jllm.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF v3 file, streaming: declare metadata and tensors, then {@link #writeHeader()}, then write each
 * tensor's data in declaration order with {@link #writeTensor}, which asks for its bytes a block of rows at a time
 * through a small direct buffer (a multi-GB file needs no more heap than that buffer).
 *
 * <p>Layout (little-endian): magic "GGUF", version u32, tensor count u64, metadata count u64, metadata
 * (key string, value type u32, value), tensor infos (name, n_dims u32, ne[] u64 with ne[0] the contiguous row
 * length, type u32, offset u64 from the data start), padding to {@code general.alignment} (32 unless set), data;
 * every tensor starts at a multiple of the alignment.
 */
public final class GgufWriter implements AutoCloseable {
    // GGUF metadata value type ids
    static final int T_U8 = 0, T_I8 = 1, T_U16 = 2, T_I16 = 3, T_U32 = 4, T_I32 = 5, T_F32 = 6, T_BOOL = 7,
            T_STRING = 8, T_ARRAY = 9, T_U64 = 10, T_I64 = 11, T_F64 = 12;
    /** Bytes buffered before each write to the file. */
    private static final int CHUNK = 8 << 20;

    /** Supplies the bytes of rows {@code [firstRow, firstRow + count)} of a tensor into {@code dst} (position 0, little-endian). */
    @FunctionalInterface
    public interface RowSource {
        void rows(long firstRow, int count, ByteBuffer dst);
    }

    private record Value(int type, int elementType, Object value) {
    }

    private record Tensor(String name, GgmlType type, long[] shape, long rowBytes, long rows, long byteSize) {
    }

    private final Path path;
    private final Map<String, Value> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private FileChannel channel;
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;
    private int nextTensor = -1; // -1 until the header is written
    private long written;        // bytes written so far

    public GgufWriter(Path path) {
        this.path = path;
    }

    // ---- metadata ----

    public GgufWriter putString(String key, String v) {
        return put(key, new Value(T_STRING, -1, v));
    }

    public GgufWriter putU32(String key, long v) {
        if (v < 0 || v > 0xFFFFFFFFL) throw new IllegalArgumentException(key + ": " + v + " does not fit in u32");
        return put(key, new Value(T_U32, -1, v));
    }

    public GgufWriter putI32(String key, int v) {
        return put(key, new Value(T_I32, -1, (long) v));
    }

    public GgufWriter putU64(String key, long v) {
        return put(key, new Value(T_U64, -1, v));
    }

    public GgufWriter putF32(String key, float v) {
        return put(key, new Value(T_F32, -1, (double) v));
    }

    public GgufWriter putBool(String key, boolean v) {
        return put(key, new Value(T_BOOL, -1, v));
    }

    public GgufWriter putStringArray(String key, List<String> v) {
        return put(key, new Value(T_ARRAY, T_STRING, List.copyOf(v)));
    }

    public GgufWriter putF32Array(String key, float[] v) {
        List<Object> l = new ArrayList<>(v.length);
        for (float f : v) l.add((double) f);
        return put(key, new Value(T_ARRAY, T_F32, l));
    }

    public GgufWriter putI32Array(String key, int[] v) {
        List<Object> l = new ArrayList<>(v.length);
        for (int i : v) l.add((long) i);
        return put(key, new Value(T_ARRAY, T_I32, l));
    }

    private GgufWriter put(String key, Value v) {
        if (nextTensor >= 0) throw new IllegalStateException("metadata '" + key + "' added after the header was written");
        if (key.equals(GgufFile.ALIGNMENT_KEY)) {
            long a = (Long) v.value();
            if (v.type() != T_U32 || a <= 0 || (a & (a - 1)) != 0) {
                throw new IllegalArgumentException(key + " must be a power-of-two u32, got " + v.value());
            }
            alignment = (int) a;
        }
        metadata.put(key, v);
        return this;
    }

    // ---- tensors ----

    /**
     * Declares a tensor; {@code shape} in ggml order ({@code shape[0]} = row length, contiguous). Data must follow in
     * declaration order.
     */
    public GgufWriter addTensor(String name, GgmlType type, long... shape) {
        if (nextTensor >= 0) throw new IllegalStateException("tensor '" + name + "' added after the header was written");
        if (shape.length < 1 || shape.length > 4) {
            throw new IllegalArgumentException("tensor '" + name + "' needs 1 to 4 dimensions, got " + shape.length);
        }
        for (Tensor t : tensors) {
            if (t.name().equals(name)) throw new IllegalArgumentException("tensor '" + name + "' declared twice");
        }
        long rows = 1;
        for (int d = 1; d < shape.length; d++) {
            if (shape[d] <= 0) throw new IllegalArgumentException("tensor '" + name + "' dimension " + d + " is " + shape[d]);
            rows = Math.multiplyExact(rows, shape[d]);
        }
        if (shape[0] <= 0 || shape[0] % type.blockSize != 0) {
            throw new IllegalArgumentException("tensor '" + name + "' of type " + type + " needs a row length that is a positive multiple of "
                    + type.blockSize + ", got " + shape[0]);
        }
        long rowBytes = type.bytesFor(shape[0]);
        tensors.add(new Tensor(name, type, shape.clone(), rowBytes, rows, Math.multiplyExact(rowBytes, rows)));
        return this;
    }

    /** Writes magic, counts, metadata and the tensor table (offsets computed here), and pads to the alignment. */
    public void writeHeader() throws IOException {
        if (nextTensor >= 0) throw new IllegalStateException("header already written");
        channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        Bytes h = new Bytes();
        h.i32(GgufFile.MAGIC);
        h.i32(3);
        h.i64(tensors.size());
        h.i64(metadata.size());
        for (Map.Entry<String, Value> e : metadata.entrySet()) {
            h.string(e.getKey());
            h.i32(e.getValue().type());
            h.value(e.getValue().type(), e.getValue().elementType(), e.getValue().value());
        }
        long offset = 0;
        for (Tensor t : tensors) {
            h.string(t.name());
            h.i32(t.shape().length);
            for (long d : t.shape()) h.i64(d);
            h.i32(t.type().id);
            h.i64(offset);
            offset = align(offset + t.byteSize());
        }
        h.pad(alignment);
        writeFully(h.toBuffer());
        nextTensor = 0;
    }

    /** Writes the data of the next declared tensor, which must be {@code name}, asking {@code source} for its rows. */
    public void writeTensor(String name, RowSource source) throws IOException {
        if (nextTensor < 0) throw new IllegalStateException("write the header before tensor data");
        if (nextTensor >= tensors.size()) throw new IllegalStateException("all declared tensors are written; '" + name + "' is extra");
        Tensor t = tensors.get(nextTensor);
        if (!t.name().equals(name)) {
            throw new IllegalStateException("tensor data out of order: expected '" + t.name() + "', got '" + name + "'");
        }
        int rowsPerChunk = (int) Math.max(1, Math.min(t.rows(), CHUNK / t.rowBytes()));
        ByteBuffer buf = ByteBuffer.allocateDirect((int) Math.max(t.rowBytes() * rowsPerChunk, 1)).order(ByteOrder.LITTLE_ENDIAN);
        for (long r = 0; r < t.rows(); r += rowsPerChunk) {
            int count = (int) Math.min(rowsPerChunk, t.rows() - r);
            buf.clear();
            buf.limit((int) (count * t.rowBytes()));
            source.rows(r, count, buf.slice().order(ByteOrder.LITTLE_ENDIAN));
            buf.position(0);
            writeFully(buf);
        }
        long pad = align(written) - written;
        if (pad > 0) writeFully(ByteBuffer.allocate((int) pad));
        nextTensor++;
    }

    /** Convenience for small tensors: F32 values, written whole. */
    public void writeTensor(String name, float[] values) throws IOException {
        Tensor t = tensors.get(Math.max(0, nextTensor));
        if (t.type() != GgmlType.F32 || t.rows() * t.shape()[0] != values.length) {
            throw new IllegalArgumentException("tensor '" + name + "' is " + t.type() + " with " + t.rows() * t.shape()[0]
                    + " elements; got " + values.length + " F32 values");
        }
        int cols = (int) t.shape()[0];
        writeTensor(name, (first, count, dst) -> {
            for (int i = 0; i < count * cols; i++) dst.putFloat(values[(int) (first * cols) + i]);
        });
    }

    private long align(long x) {
        return (x + alignment - 1) / alignment * alignment;
    }

    private void writeFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) written += channel.write(b);
    }

    @Override
    public void close() throws IOException {
        if (channel == null) return;
        try {
            if (nextTensor >= 0 && nextTensor < tensors.size()) {
                throw new IllegalStateException(path + ": closed after " + nextTensor + " of " + tensors.size()
                        + " tensors; next missing: '" + tensors.get(nextTensor).name() + "'");
            }
        } finally {
            channel.close();
            channel = null;
        }
    }

    /** A growable little-endian header buffer. */
    private static final class Bytes {
        private ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        private void ensure(int n) {
            if (b.remaining() < n) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(b.capacity() * 2, b.position() + n)).order(ByteOrder.LITTLE_ENDIAN);
                b.flip();
                bigger.put(b);
                b = bigger;
            }
        }

        void i32(int v) {
            ensure(4);
            b.putInt(v);
        }

        void i64(long v) {
            ensure(8);
            b.putLong(v);
        }

        void string(String s) {
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            i64(u.length);
            ensure(u.length);
            b.put(u);
        }

        void value(int type, int elementType, Object v) {
            switch (type) {
                case T_U8, T_I8 -> {
                    ensure(1);
                    b.put((byte) (long) (Long) v);
                }
                case T_U16, T_I16 -> {
                    ensure(2);
                    b.putShort((short) (long) (Long) v);
                }
                case T_U32, T_I32 -> i32((int) (long) (Long) v);
                case T_U64, T_I64 -> i64((Long) v);
                case T_F32 -> {
                    ensure(4);
                    b.putFloat((float) (double) (Double) v);
                }
                case T_F64 -> {
                    ensure(8);
                    b.putDouble((Double) v);
                }
                case T_BOOL -> {
                    ensure(1);
                    b.put((byte) ((Boolean) v ? 1 : 0));
                }
                case T_STRING -> string((String) v);
                case T_ARRAY -> {
                    List<?> l = (List<?>) v;
                    i32(elementType);
                    i64(l.size());
                    for (Object e : l) value(elementType, -1, e);
                }
                default -> throw new IllegalArgumentException("unknown GGUF value type " + type);
            }
        }

        void pad(int alignment) {
            int pad = (alignment - b.position() % alignment) % alignment;
            ensure(pad);
            for (int i = 0; i < pad; i++) b.put((byte) 0);
        }

        ByteBuffer toBuffer() {
            return b.flip();
        }
    }
}
