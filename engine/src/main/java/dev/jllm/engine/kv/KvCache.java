package dev.jllm.engine.kv;

import dev.jllm.engine.llama.VecOps;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The keys and values of one sequence, per layer: {@code [capacity(layer)][kvDim]} each. A layer whose
 * attention sees only the last {@code W} positions (sliding window, chunked attention) keeps a rolling buffer
 * of {@code min(maxContext, W)} slots, position {@code p} in slot {@code p mod capacity}; RoPE positions stay
 * absolute. A global layer keeps every position (storage grows on demand up to {@link #maxContext()}).
 *
 * <p>The forward pass reads the cache for positions before the current chunk and appends the chunk's keys and
 * values after attending ({@link #put}, then {@link #advance}). Not thread-safe across sequences' owners:
 * one sequence's cache is used by one forward pass at a time (its layers and positions are written disjointly
 * by that pass's threads).
 *
 * <p>{@link #create} makes the CPU's F32/F16 caches; another backend may subclass this for storage of its own
 * (device memory), implementing the storage methods and its own {@link #writeTo} format.
 */
public abstract class KvCache {
    private static final int MAGIC = 0x4A4B5631; // "JKV1"
    private static final int FORMAT_VERSION = 1;

    protected final int nLayers;
    protected final int kvDim;
    protected final int headDim;
    protected final int maxContext;
    /** Slots per layer: maxContext for global layers, the window for rolling ones. */
    protected final int[] capacity;
    /** Slots allocated per layer (grows up to capacity). */
    protected final int[] allocated;
    /** Per layer: positions below this were overwritten in the rolling buffer. */
    protected final int[] lostBefore;
    protected int length;

    protected KvCache(int nLayers, int kvDim, int headDim, int maxContext, int[] capacity) {
        if (nLayers <= 0 || kvDim <= 0 || headDim <= 0 || kvDim % headDim != 0 || maxContext <= 0) {
            throw new IllegalArgumentException("bad KV cache shape: layers " + nLayers + ", kvDim " + kvDim
                    + ", headDim " + headDim + ", maxContext " + maxContext);
        }
        if (capacity.length != nLayers) throw new IllegalArgumentException("need " + nLayers + " layer capacities");
        for (int c : capacity) {
            if (c <= 0 || c > maxContext) throw new IllegalArgumentException("layer capacity " + c + " vs maxContext " + maxContext);
        }
        this.nLayers = nLayers;
        this.kvDim = kvDim;
        this.headDim = headDim;
        this.maxContext = maxContext;
        this.capacity = capacity.clone();
        this.allocated = new int[nLayers];
        this.lostBefore = new int[nLayers];
    }

    /**
     * A new empty cache.
     *
     * @param capacity slots per layer: {@code maxContext} for a global layer, the window for a rolling one
     */
    public static KvCache create(KvType type, int nLayers, int kvDim, int headDim, int maxContext, int[] capacity) {
        return switch (type) {
            case F32 -> new F32(nLayers, kvDim, headDim, maxContext, capacity);
            case F16 -> new F16(nLayers, kvDim, headDim, maxContext, capacity);
        };
    }

    public abstract KvType type();

    /** Tokens this cache has seen: the position of the next token. */
    public int length() {
        return length;
    }

    public int layers() {
        return nLayers;
    }

    public int kvDim() {
        return kvDim;
    }

    public int headDim() {
        return headDim;
    }

    public int maxContext() {
        return maxContext;
    }

    public int capacity(int layer) {
        return capacity[layer];
    }

    /** Whether {@code layer} keeps a rolling buffer (fewer slots than positions it may see). */
    public boolean rolling(int layer) {
        return capacity[layer] < maxContext;
    }

    /** The oldest position still held for {@code layer}. */
    public int oldestPosition(int layer) {
        return Math.max(lostBefore[layer], Math.max(0, length - capacity[layer]));
    }

    /** Bytes of storage allocated now. */
    public long bytes() {
        long slots = 0;
        for (int a : allocated) slots += a;
        return slots * 2L * kvDim * bytesPerValue();
    }

    /**
     * Bytes one more token adds while no layer is full: keys and values of every layer that has not reached its
     * capacity (for memory budgets; a rolling layer stops growing at its window).
     */
    public long bytesPerToken() {
        long n = 0;
        for (int l = 0; l < nLayers; l++) if (length < capacity[l]) n += 2L * kvDim * bytesPerValue();
        return n;
    }

    /** The most bytes this cache can grow to (every layer at its capacity). */
    public long maxBytes() {
        long slots = 0;
        for (int c : capacity) slots += c;
        return slots * 2L * kvDim * bytesPerValue();
    }

    protected abstract int bytesPerValue();

    /** Positions this cache can still take. */
    public int remaining() {
        return maxContext - length;
    }

    /**
     * Keeps the first {@code n} tokens. Always possible while nothing was overwritten; a rolling layer that
     * has wrapped can only drop its newest token (the window of the next position must still be held),
     * otherwise an {@link IllegalStateException} says so and the cache is unchanged.
     */
    public void truncate(int n) {
        if (n < 0 || n > length) throw new IllegalArgumentException("truncate to " + n + " of " + length + " tokens");
        if (n == length) return;
        for (int l = 0; l < nLayers; l++) {
            // the next position n may attend to n - capacity + 1 .. n - 1: they must not have been overwritten
            if (lostBefore[l] > Math.max(0, n - capacity[l] + 1)) {
                throw new IllegalStateException("cannot truncate to " + n + " tokens: layer " + l
                        + "'s rolling buffer of " + capacity[l] + " slots no longer holds positions before "
                        + lostBefore[l] + " (re-run the prefix instead)");
            }
        }
        length = n;
    }

    /**
     * An independent copy (same shape, tokens and rolling state): forks a sequence, e.g. several completions of
     * one prompt, or a cached prefix reused by a new request.
     */
    public KvCache copy() {
        KvCache c = newEmpty();
        for (int l = 0; l < nLayers; l++) {
            if (allocated[l] > 0) c.grow(l, allocated[l]);
            c.allocated[l] = allocated[l];
            c.lostBefore[l] = lostBefore[l];
            copyLayerTo(c, l);
        }
        c.length = length;
        return c;
    }

    /** An empty cache of the same type and shape. */
    protected abstract KvCache newEmpty();

    /** Copies {@code layer}'s allocated storage into {@code dst} (same type, already grown). */
    protected abstract void copyLayerTo(KvCache dst, int layer);

    /** Forgets every token (keeps the storage). */
    public void clear() {
        length = 0;
        Arrays.fill(lostBefore, 0);
    }

    /**
     * Checks that {@code n} more tokens fit; called by the forward pass before it writes anything.
     */
    public void checkRoom(int n) {
        if (length + n > maxContext) {
            throw new IllegalStateException("KV cache full: " + length + " + " + n + " tokens exceed its context of "
                    + maxContext);
        }
    }

    /** Records that {@code n} more tokens were written (after all layers of a pass). */
    public void advance(int n) {
        checkRoom(n);
        length += n;
    }

    /** The slot of {@code pos} in {@code layer}, making room for it. */
    protected final int slot(int layer, int pos) {
        int cap = capacity[layer];
        if (pos >= allocated[layer]) {
            int want = Math.min(cap, Math.max(pos + 1, Math.max(16, allocated[layer] * 2)));
            if (want > allocated[layer]) {
                grow(layer, want);
                allocated[layer] = want;
            }
        }
        if (pos >= cap) lostBefore[layer] = Math.max(lostBefore[layer], pos - cap + 1);
        return pos % cap;
    }

    /** Grows {@code layer}'s storage to {@code slots} slots (contents kept). */
    protected abstract void grow(int layer, int slots);

    /**
     * Rounds {@code n} values at {@code a[off ..]} to this cache's storage precision, so that a chunk attending
     * to its own fresh keys and values sees exactly what a later token reads back from the cache.
     */
    public abstract void round(float[] a, int off, int n);

    /** Stores position {@code pos}'s key and value ({@code [kvDim]} each) for {@code layer}. */
    public abstract void put(int layer, int pos, float[] k, int kOff, float[] v, int vOff);

    /**
     * {@code scores[sOff + (p - from)] = scale * dot(q[qOff ..+headDim], key(layer, p, kvHead))} for
     * {@code p} in {@code [from, to)}; every such position must be held.
     */
    public final void scores(int layer, int kvHead, int from, int to, float[] q, int qOff, float scale,
                             float[] scores, int sOff) {
        scores(layer, kvHead, from, to, q, qOff, 1, scale, scores, sOff, 0);
    }

    /**
     * The scores of {@code nq} query heads that share {@code kvHead} (GQA), reading each key once:
     * {@code scores[sOff + j * sStride + (p - from)] = scale * dot(q[qOff + j * headDim ..], key(layer, p, kvHead))}
     * for {@code j < nq}, {@code p} in {@code [from, to)}.
     */
    public abstract void scores(int layer, int kvHead, int from, int to, float[] q, int qOff, int nq, float scale,
                                float[] scores, int sOff, int sStride);

    /**
     * {@code out[outOff ..+headDim] += sum_p w[wOff + (p - from)] * value(layer, p, kvHead)} for {@code p} in
     * {@code [from, to)}.
     */
    public final void addValues(int layer, int kvHead, int from, int to, float[] w, int wOff, float[] out, int outOff) {
        addValues(layer, kvHead, from, to, 1, w, wOff, 0, out, outOff);
    }

    /**
     * The weighted sums of {@code nq} query heads sharing {@code kvHead}, reading each value once:
     * {@code out[outOff + j * headDim ..] += sum_p w[wOff + j * wStride + (p - from)] * value(layer, p, kvHead)}.
     */
    public abstract void addValues(int layer, int kvHead, int from, int to, int nq, float[] w, int wOff, int wStride,
                                   float[] out, int outOff);

    /** Copies the key and value at {@code pos} of {@code layer} (tests, debugging). */
    public abstract void get(int layer, int pos, float[] k, float[] v);

    protected final void checkHeld(int layer, int from, int to) {
        if (from < oldestPosition(layer) || to > length) {
            throw new IllegalStateException("layer " + layer + " holds positions [" + oldestPosition(layer) + ", "
                    + length + "), asked for [" + from + ", " + to + ")");
        }
    }

    // ---------------------------------------------------------------- serialization

    /**
     * Writes this cache (shape, length, rolling state and every allocated slot) so that {@link #readFrom}
     * restores it byte-exactly.
     */
    public void writeTo(OutputStream os) throws IOException {
        DataOutputStream out = new DataOutputStream(os);
        out.writeInt(MAGIC);
        out.writeInt(FORMAT_VERSION);
        out.writeInt(type().ordinal());
        out.writeInt(nLayers);
        out.writeInt(kvDim);
        out.writeInt(headDim);
        out.writeInt(maxContext);
        out.writeInt(length);
        for (int l = 0; l < nLayers; l++) {
            out.writeInt(capacity[l]);
            out.writeInt(allocated[l]);
            out.writeInt(lostBefore[l]);
        }
        for (int l = 0; l < nLayers; l++) writeLayer(out, l);
        out.flush();
    }

    /** Bytes staged per write or read of {@link #writeLittleEndian}/{@link #readLittleEndian}. */
    private static final int IO_BUFFER_BYTES = 32 * 1024;

    /**
     * Writes {@code count} elements of {@code src} (a heap array's segment, elements of {@code element}'s size)
     * little-endian, whatever the platform's order, through a bounded buffer: the serialized format of every
     * cache, on every backend.
     */
    protected static void writeLittleEndian(DataOutputStream out, MemorySegment src, ValueLayout element, long count)
            throws IOException {
        long size = element.byteSize();
        byte[] buf = new byte[(int) Math.min(count * size, IO_BUFFER_BYTES)];
        MemorySegment dst = MemorySegment.ofArray(buf);
        ValueLayout le = element.withOrder(ByteOrder.LITTLE_ENDIAN).withByteAlignment(1);
        for (long i = 0; i < count; ) {
            long m = Math.min(count - i, buf.length / size);
            MemorySegment.copy(src, element, i * size, dst, le, 0, m);
            out.write(buf, 0, (int) (m * size));
            i += m;
        }
    }

    /** Reads what {@link #writeLittleEndian} wrote into {@code dst}. */
    protected static void readLittleEndian(DataInputStream in, MemorySegment dst, ValueLayout element, long count)
            throws IOException {
        long size = element.byteSize();
        byte[] buf = new byte[(int) Math.min(count * size, IO_BUFFER_BYTES)];
        MemorySegment src = MemorySegment.ofArray(buf);
        ValueLayout le = element.withOrder(ByteOrder.LITTLE_ENDIAN).withByteAlignment(1);
        for (long i = 0; i < count; ) {
            long m = Math.min(count - i, buf.length / size);
            in.readFully(buf, 0, (int) (m * size));
            MemorySegment.copy(src, le, 0, dst, element, i * size, m);
            i += m;
        }
    }

    protected abstract void writeLayer(DataOutputStream out, int layer) throws IOException;

    protected abstract void readLayer(DataInputStream in, int layer) throws IOException;

    /** Reads a cache written by {@link #writeTo}; the caller checks that its shape fits the model. */
    public static KvCache readFrom(InputStream is) throws IOException {
        DataInputStream in = new DataInputStream(is);
        int magic = in.readInt();
        if (magic != MAGIC) throw new IOException("not a serialized KV cache (magic 0x" + Integer.toHexString(magic) + ")");
        int version = in.readInt();
        if (version != FORMAT_VERSION) throw new IOException("unsupported KV cache format version " + version);
        int t = in.readInt();
        if (t < 0 || t >= KvType.values().length) throw new IOException("unknown KV cache type " + t);
        int nLayers = in.readInt(), kvDim = in.readInt(), headDim = in.readInt(), maxContext = in.readInt();
        int length = in.readInt();
        if (nLayers <= 0 || nLayers > 100_000 || kvDim <= 0 || headDim <= 0 || maxContext <= 0 || length < 0 || length > maxContext) {
            throw new IOException("corrupt KV cache header (layers " + nLayers + ", kvDim " + kvDim + ", length " + length + ")");
        }
        int[] cap = new int[nLayers], alloc = new int[nLayers], lost = new int[nLayers];
        for (int l = 0; l < nLayers; l++) {
            cap[l] = in.readInt();
            alloc[l] = in.readInt();
            lost[l] = in.readInt();
            if (alloc[l] < 0 || alloc[l] > cap[l]) throw new IOException("corrupt KV cache: layer " + l + " allocation");
        }
        KvCache c;
        try {
            c = create(KvType.values()[t], nLayers, kvDim, headDim, maxContext, cap);
        } catch (IllegalArgumentException e) {
            throw new IOException("corrupt KV cache: " + e.getMessage(), e);
        }
        for (int l = 0; l < nLayers; l++) {
            if (alloc[l] > 0) c.grow(l, alloc[l]);
            c.allocated[l] = alloc[l];
            c.lostBefore[l] = lost[l];
            c.readLayer(in, l);
        }
        c.length = length;
        return c;
    }

    /** Same shape, length and contents. */
    public boolean contentEquals(KvCache o) {
        if (o.type() != type() || o.nLayers != nLayers || o.kvDim != kvDim || o.length != length
                || !Arrays.equals(o.capacity, capacity)) {
            return false;
        }
        float[] k1 = new float[kvDim], v1 = new float[kvDim], k2 = new float[kvDim], v2 = new float[kvDim];
        for (int l = 0; l < nLayers; l++) {
            for (int p = oldestPosition(l); p < length; p++) {
                get(l, p, k1, v1);
                o.get(l, p, k2, v2);
                if (!Arrays.equals(k1, k2) || !Arrays.equals(v1, v2)) return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "KvCache[" + type() + ", " + length + "/" + maxContext + " tokens, " + nLayers + " layers x " + kvDim
                + ", " + bytes() + " bytes]";
    }

    // ---------------------------------------------------------------- storage types

    /** F32 storage: {@code keys[layer][slot * kvDim + i]}. */
    static final class F32 extends KvCache {
        private final float[][] keys;   // [nLayers][allocated * kvDim]
        private final float[][] values; // [nLayers][allocated * kvDim]

        F32(int nLayers, int kvDim, int headDim, int maxContext, int[] capacity) {
            super(nLayers, kvDim, headDim, maxContext, capacity);
            keys = new float[nLayers][0];
            values = new float[nLayers][0];
        }

        @Override
        public KvType type() {
            return KvType.F32;
        }

        @Override
        protected int bytesPerValue() {
            return 4;
        }

        @Override
        protected void grow(int layer, int slots) {
            keys[layer] = Arrays.copyOf(keys[layer], slots * kvDim);
            values[layer] = Arrays.copyOf(values[layer], slots * kvDim);
        }

        @Override
        public void round(float[] a, int off, int n) {
            // F32 storage is exact
        }

        @Override
        protected KvCache newEmpty() {
            return new F32(nLayers, kvDim, headDim, maxContext, capacity);
        }

        @Override
        protected void copyLayerTo(KvCache dst, int layer) {
            F32 d = (F32) dst;
            System.arraycopy(keys[layer], 0, d.keys[layer], 0, allocated[layer] * kvDim);
            System.arraycopy(values[layer], 0, d.values[layer], 0, allocated[layer] * kvDim);
        }

        @Override
        public void put(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
            int s = slot(layer, pos) * kvDim;
            System.arraycopy(k, kOff, keys[layer], s, kvDim);
            System.arraycopy(v, vOff, values[layer], s, kvDim);
        }

        @Override
        public void scores(int layer, int kvHead, int from, int to, float[] q, int qOff, int nq, float scale,
                           float[] scores, int sOff, int sStride) {
            checkHeld(layer, from, to);
            float[] kl = keys[layer];
            int cap = capacity[layer];
            for (int p = from; p < to; p++) {
                int base = (p % cap) * kvDim + kvHead * headDim;
                VecOps.dotMany(q, qOff, headDim, nq, kl, base, headDim, scale, scores, sOff + p - from, sStride);
            }
        }

        @Override
        public void addValues(int layer, int kvHead, int from, int to, int nq, float[] w, int wOff, int wStride,
                              float[] out, int outOff) {
            checkHeld(layer, from, to);
            float[] vl = values[layer];
            int cap = capacity[layer];
            int head = kvHead * headDim;
            for (int j = 0; j < nq; j++) {
                int wBase = wOff + j * wStride - from;
                // columns in blocks of 4 vectors summed in registers over all positions, then added to out once
                int c = VecOps.weightedSumBlocks(vl, kvDim, cap, head, headDim, from, to, w, wBase, out, outOff + j * headDim);
                for (int p = from; p < to && c < headDim; p++) {
                    VecOps.axpy(w[wBase + p], vl, (p % cap) * kvDim + head + c, out, outOff + j * headDim + c, headDim - c);
                }
            }
        }

        @Override
        public void get(int layer, int pos, float[] k, float[] v) {
            int s = (pos % capacity[layer]) * kvDim;
            System.arraycopy(keys[layer], s, k, 0, kvDim);
            System.arraycopy(values[layer], s, v, 0, kvDim);
        }

        @Override
        protected void writeLayer(DataOutputStream out, int layer) throws IOException {
            writeLittleEndian(out, MemorySegment.ofArray(keys[layer]), ValueLayout.JAVA_FLOAT, (long) allocated[layer] * kvDim);
            writeLittleEndian(out, MemorySegment.ofArray(values[layer]), ValueLayout.JAVA_FLOAT, (long) allocated[layer] * kvDim);
        }

        @Override
        protected void readLayer(DataInputStream in, int layer) throws IOException {
            readLittleEndian(in, MemorySegment.ofArray(keys[layer]), ValueLayout.JAVA_FLOAT, (long) allocated[layer] * kvDim);
            readLittleEndian(in, MemorySegment.ofArray(values[layer]), ValueLayout.JAVA_FLOAT, (long) allocated[layer] * kvDim);
        }


    }

    /** F16 storage (IEEE half as {@code short}): {@code keys[layer][slot * kvDim + i]}. */
    static final class F16 extends KvCache {
        private final short[][] keys;   // [nLayers][allocated * kvDim]
        private final short[][] values; // [nLayers][allocated * kvDim]

        F16(int nLayers, int kvDim, int headDim, int maxContext, int[] capacity) {
            super(nLayers, kvDim, headDim, maxContext, capacity);
            keys = new short[nLayers][0];
            values = new short[nLayers][0];
        }

        @Override
        public KvType type() {
            return KvType.F16;
        }

        @Override
        protected int bytesPerValue() {
            return 2;
        }

        @Override
        protected void grow(int layer, int slots) {
            keys[layer] = Arrays.copyOf(keys[layer], slots * kvDim);
            values[layer] = Arrays.copyOf(values[layer], slots * kvDim);
        }

        @Override
        public void round(float[] a, int off, int n) {
            for (int i = off; i < off + n; i++) a[i] = Float.float16ToFloat(Float.floatToFloat16(a[i]));
        }

        @Override
        protected KvCache newEmpty() {
            return new F16(nLayers, kvDim, headDim, maxContext, capacity);
        }

        @Override
        protected void copyLayerTo(KvCache dst, int layer) {
            F16 d = (F16) dst;
            System.arraycopy(keys[layer], 0, d.keys[layer], 0, allocated[layer] * kvDim);
            System.arraycopy(values[layer], 0, d.values[layer], 0, allocated[layer] * kvDim);
        }

        @Override
        public void put(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
            int s = slot(layer, pos) * kvDim;
            short[] kl = keys[layer], vl = values[layer];
            for (int i = 0; i < kvDim; i++) {
                kl[s + i] = Float.floatToFloat16(k[kOff + i]);
                vl[s + i] = Float.floatToFloat16(v[vOff + i]);
            }
        }

        @Override
        public void scores(int layer, int kvHead, int from, int to, float[] q, int qOff, int nq, float scale,
                           float[] scores, int sOff, int sStride) {
            checkHeld(layer, from, to);
            short[] kl = keys[layer];
            int cap = capacity[layer];
            float[] key = new float[headDim]; // [headDim] one key, widened once for the group
            for (int p = from; p < to; p++) {
                int base = (p % cap) * kvDim + kvHead * headDim;
                for (int i = 0; i < headDim; i++) key[i] = Float.float16ToFloat(kl[base + i]);
                VecOps.dotMany(q, qOff, headDim, nq, key, 0, headDim, scale, scores, sOff + p - from, sStride);
            }
        }

        @Override
        public void addValues(int layer, int kvHead, int from, int to, int nq, float[] w, int wOff, int wStride,
                              float[] out, int outOff) {
            checkHeld(layer, from, to);
            short[] vl = values[layer];
            int cap = capacity[layer];
            float[] value = new float[headDim]; // [headDim] one value, widened once for the group
            for (int p = from; p < to; p++) {
                int base = (p % cap) * kvDim + kvHead * headDim;
                for (int i = 0; i < headDim; i++) value[i] = Float.float16ToFloat(vl[base + i]);
                for (int j = 0; j < nq; j++) {
                    VecOps.axpy(w[wOff + j * wStride + p - from], value, 0, out, outOff + j * headDim, headDim);
                }
            }
        }

        @Override
        public void get(int layer, int pos, float[] k, float[] v) {
            int s = (pos % capacity[layer]) * kvDim;
            for (int i = 0; i < kvDim; i++) {
                k[i] = Float.float16ToFloat(keys[layer][s + i]);
                v[i] = Float.float16ToFloat(values[layer][s + i]);
            }
        }

        @Override
        protected void writeLayer(DataOutputStream out, int layer) throws IOException {
            writeLittleEndian(out, MemorySegment.ofArray(keys[layer]), ValueLayout.JAVA_SHORT, (long) allocated[layer] * kvDim);
            writeLittleEndian(out, MemorySegment.ofArray(values[layer]), ValueLayout.JAVA_SHORT, (long) allocated[layer] * kvDim);
        }

        @Override
        protected void readLayer(DataInputStream in, int layer) throws IOException {
            readLittleEndian(in, MemorySegment.ofArray(keys[layer]), ValueLayout.JAVA_SHORT, (long) allocated[layer] * kvDim);
            readLittleEndian(in, MemorySegment.ofArray(values[layer]), ValueLayout.JAVA_SHORT, (long) allocated[layer] * kvDim);
        }


    }
}
