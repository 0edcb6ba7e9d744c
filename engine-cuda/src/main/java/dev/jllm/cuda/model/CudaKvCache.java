package dev.jllm.cuda.model;

import dev.jllm.cuda.ffm.CudaDevice;
import dev.jllm.cuda.ffm.DeviceBuffer;
import dev.jllm.cuda.ffm.PinnedBuffer;
import dev.jllm.engine.kv.KvCache;
import dev.jllm.engine.kv.KvType;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A sequence's KV cache in device memory, F32, in the CPU cache's layout: per layer keys and values
 * {@code [allocated slots][kvDim]}, position {@code p} in slot {@code p mod capacity(layer)}. Storage grows
 * on demand like the CPU cache's (reallocate and copy on the device). Serialization writes the CPU F32
 * format, so a cache saved here restores on the CPU backend and back.
 *
 * <p>The kernels read and write it directly; the CPU attention hooks ({@link #scores}, {@link #addValues})
 * are not available on it.
 */
public final class CudaKvCache extends KvCache {
    private final CudaDevice device;
    private final DeviceBuffer[] keys;    // [nLayers] of [allocated * kvDim] floats
    private final DeviceBuffer[] values;  // [nLayers] of [allocated * kvDim] floats
    private boolean released;
    private int generation;  // bumped whenever storage moves (a captured graph holds the old addresses)

    private final java.util.function.Consumer<CudaKvCache> registry;  // the model, which frees its caches at close

    CudaKvCache(CudaDevice device, int nLayers, int kvDim, int headDim, int maxContext, int[] capacity,
                java.util.function.Consumer<CudaKvCache> registry) {
        super(nLayers, kvDim, headDim, maxContext, capacity);
        this.device = device;
        this.keys = new DeviceBuffer[nLayers];
        this.values = new DeviceBuffer[nLayers];
        this.registry = registry;
        registry.accept(this);
    }

    @Override
    protected KvCache newEmpty() {
        checkLive();
        return new CudaKvCache(device, nLayers, kvDim, headDim, maxContext, capacity, registry);
    }

    /** Device-to-device copy of the allocated slots ({@link KvCache#copy()} grew {@code dst} already). */
    @Override
    protected void copyLayerTo(KvCache dst, int layer) {
        CudaKvCache d = (CudaKvCache) dst;
        long bytes = 4L * allocated[layer] * kvDim;
        if (bytes == 0) return;
        device.copyDeviceToDevice(d.keys[layer], 0, keys[layer], 0, bytes, 0);
        device.copyDeviceToDevice(d.values[layer], 0, values[layer], 0, bytes, 0);
        device.synchronize(0);
    }

    @Override
    public KvType type() {
        return KvType.F32;
    }

    @Override
    protected int bytesPerValue() {
        return 4;
    }

    /** Makes room for positions {@code [pos0, pos0 + n)} in every layer (before the kernels write them). */
    void reserve(int pos0, int n) {
        for (int l = 0; l < nLayers; l++) {
            for (int p = pos0; p < pos0 + n; p++) slot(l, p);
        }
    }

    /** Layer {@code l}'s keys, {@code [allocated][kvDim]}. */
    DeviceBuffer keys(int l) {
        return keys[l];
    }

    DeviceBuffer values(int l) {
        return values[l];
    }

    @Override
    protected void grow(int layer, int slots) {
        checkLive();
        long bytes = 4L * slots * kvDim;
        DeviceBuffer k = device.memory().allocate("kv cache layer " + layer + " keys", bytes);
        DeviceBuffer v = device.memory().allocate("kv cache layer " + layer + " values", bytes);
        device.fill32(k, 0, 0, bytes / 4, 0);
        device.fill32(v, 0, 0, bytes / 4, 0);
        if (keys[layer] != null) {
            long old = keys[layer].bytes();
            device.copyDeviceToDevice(k, 0, keys[layer], 0, old, 0);
            device.copyDeviceToDevice(v, 0, values[layer], 0, old, 0);
            device.synchronize(0);
            device.memory().free(keys[layer]);
            device.memory().free(values[layer]);
        }
        keys[layer] = k;
        values[layer] = v;
        generation++;
    }

    /** Changes whenever a layer's storage is reallocated. */
    int generation() {
        return generation;
    }

    @Override
    public void round(float[] a, int off, int n) {
        // F32 storage is exact
    }

    @Override
    public void put(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
        int s = slot(layer, pos);
        upload(keys[layer], 4L * s * kvDim, k, kOff, kvDim);
        upload(values[layer], 4L * s * kvDim, v, vOff, kvDim);
    }

    @Override
    public void scores(int layer, int kvHead, int from, int to, float[] q, int qOff, int nq, float scale,
                       float[] scores, int sOff, int sStride) {
        throw new UnsupportedOperationException("a CUDA KV cache is read by the CUDA kernels, not by CPU attention");
    }

    @Override
    public void addValues(int layer, int kvHead, int from, int to, int nq, float[] w, int wOff, int wStride,
                          float[] out, int outOff) {
        throw new UnsupportedOperationException("a CUDA KV cache is read by the CUDA kernels, not by CPU attention");
    }

    @Override
    public void get(int layer, int pos, float[] k, float[] v) {
        int s = pos % capacity[layer];
        if (s >= allocated[layer]) throw new IllegalStateException("layer " + layer + " position " + pos + " was never stored");
        download(keys[layer], 4L * s * kvDim, k, kvDim);
        download(values[layer], 4L * s * kvDim, v, kvDim);
    }

    @Override
    protected void writeLayer(DataOutputStream out, int layer) throws IOException {
        int n = allocated[layer] * kvDim;
        float[] a = new float[n];
        if (n > 0) download(keys[layer], 0, a, n);
        writeLittleEndian(out, MemorySegment.ofArray(a), ValueLayout.JAVA_FLOAT, n);
        if (n > 0) download(values[layer], 0, a, n);
        writeLittleEndian(out, MemorySegment.ofArray(a), ValueLayout.JAVA_FLOAT, n);
    }

    @Override
    protected void readLayer(DataInputStream in, int layer) throws IOException {
        throw new UnsupportedOperationException("restore through CudaLanguageModel.readCache");
    }

    /** This cache filled from {@code cpu} (same shape): positions, rolling state and contents. */
    void copyFrom(KvCache cpu) {
        float[] k = new float[kvDim], v = new float[kvDim];
        for (int l = 0; l < nLayers; l++) {
            int oldest = cpu.oldestPosition(l);
            for (int p = oldest; p < cpu.length(); p++) {
                cpu.get(l, p, k, v);
                put(l, p, k, 0, v, 0);
            }
        }
        length = cpu.length();
    }

    private void upload(DeviceBuffer dst, long offset, float[] src, int off, int n) {
        checkLive();
        PinnedBuffer staging = device.memory().allocatePinned("kv staging", 4L * n);
        try {
            device.upload(dst.view("kv row", offset, 4L * n), 0,
                    MemorySegment.ofArray(src).asSlice(4L * off, 4L * n), staging, 0);
        } finally {
            device.memory().free(staging);
        }
    }

    private void download(DeviceBuffer src, long offset, float[] dst, int n) {
        checkLive();
        PinnedBuffer staging = device.memory().allocatePinned("kv staging", 4L * n);
        try {
            device.download(MemorySegment.ofArray(dst).asSlice(0, 4L * n), src, offset, staging, 0);
        } finally {
            device.memory().free(staging);
        }
    }

    private void checkLive() {
        if (released) throw new IllegalStateException("CUDA KV cache used after its model was closed");
    }

    /** Frees the device storage (the model's close does this for caches it made). */
    void release() {
        if (released) return;
        released = true;
        for (int l = 0; l < nLayers; l++) {
            if (keys[l] != null && !keys[l].isFreed()) device.memory().free(keys[l]);
            if (values[l] != null && !values[l].isFreed()) device.memory().free(values[l]);
        }
    }
}
