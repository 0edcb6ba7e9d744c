package dev.jllm.engine.kv;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class KvCacheTest {
    /** 2 layers, kvDim 6 (3 heads of 2), context 20; layer 1 rolls over 4 slots. */
    static KvCache cache(KvType t) {
        return KvCache.create(t, 2, 6, 2, 20, new int[] {20, 4});
    }

    static void fill(KvCache c, int from, int to) {
        float[] k = new float[6], v = new float[6];
        for (int p = from; p < to; p++) {
            for (int i = 0; i < 6; i++) {
                k[i] = p + i / 8f;
                v[i] = -p - i / 8f;
            }
            for (int l = 0; l < 2; l++) c.put(l, p, k, 0, v, 0);
        }
        c.advance(to - from);
    }

    @Test
    void rollingLayerKeepsTheLastSlots() {
        KvCache c = cache(KvType.F32);
        fill(c, 0, 10);
        assertEquals(0, c.oldestPosition(0));
        assertEquals(6, c.oldestPosition(1));
        float[] k = new float[6], v = new float[6];
        c.get(1, 9, k, v);
        assertEquals(9f, k[0]);
        assertEquals(-9.125f, v[1]);
        float[] scores = new float[4];
        float[] q = {1, 0, 0, 0, 0, 1};
        c.scores(1, 2, 6, 10, q, 4, 1f, scores, 0); // head 2, q = (0, 1): picks element 5 = p + 0.625
        assertArrayEquals(new float[] {6.625f, 7.625f, 8.625f, 9.625f}, scores);
        assertThrows(IllegalStateException.class, () -> c.scores(1, 0, 5, 10, q, 0, 1f, new float[5], 0));
        assertEquals(2L * 6 * 4, c.bytesPerToken(), "only layer 0 still grows");
        assertEquals((20 + 4) * 2L * 6 * 4, c.maxBytes());
        assertTrue(c.rolling(1));
        assertFalse(c.rolling(0));
        assertEquals((20 + 4) * 2L * 6 * 4, c.bytes() + (20 - 16) * 2L * 6 * 4, "layer 0 grew to 16 slots, layer 1 to 4");
    }

    @Test
    void f16RoundsAndHalvesTheBytes() {
        KvCache a = cache(KvType.F32), b = cache(KvType.F16);
        fill(a, 0, 3);
        fill(b, 0, 3);
        assertEquals(a.bytes() / 2, b.bytes());
        float[] x = {0.1f};
        b.round(x, 0, 1);
        assertEquals(Float.float16ToFloat(Float.floatToFloat16(0.1f)), x[0]);
        assertNotEquals(0.1f, x[0]);
    }

    @Test
    void serializationRoundTripsByteExactly() throws IOException {
        for (KvType t : KvType.values()) {
            for (int n : new int[] {0, 3, 9, 20}) {
                KvCache c = cache(t);
                if (n > 0) fill(c, 0, n);
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                c.writeTo(out);
                KvCache r = KvCache.readFrom(new ByteArrayInputStream(out.toByteArray()));
                assertEquals(t, r.type());
                assertEquals(n, r.length());
                assertEquals(c.oldestPosition(1), r.oldestPosition(1));
                assertTrue(c.contentEquals(r), t + " " + n);
                ByteArrayOutputStream again = new ByteArrayOutputStream();
                r.writeTo(again);
                assertArrayEquals(out.toByteArray(), again.toByteArray());
            }
        }
    }

    @Test
    void corruptStreamsAreRefused() throws IOException {
        KvCache c = cache(KvType.F32);
        fill(c, 0, 5);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        c.writeTo(out);
        byte[] b = out.toByteArray();
        byte[] bad = b.clone();
        bad[0] = 0;
        assertTrue(assertThrows(IOException.class, () -> KvCache.readFrom(new ByteArrayInputStream(bad))).getMessage()
                .contains("not a serialized KV cache"));
        assertThrows(IOException.class, () -> KvCache.readFrom(new ByteArrayInputStream(Arrays.copyOf(b, b.length - 3))));
    }

    @Test
    void truncation() {
        KvCache c = cache(KvType.F32);
        fill(c, 0, 3);
        c.truncate(1); // nothing wrapped yet
        assertEquals(1, c.length());
        fill(c, 1, 12);
        c.truncate(11); // the newest token only
        var e = assertThrows(IllegalStateException.class, () -> c.truncate(5));
        assertTrue(e.getMessage().contains("layer 1"), e.getMessage());
        assertEquals(11, c.length());
        assertThrows(IllegalArgumentException.class, () -> c.truncate(12));
        c.clear();
        assertEquals(0, c.length());
        fill(c, 0, 2);
    }

    @Test
    void fullCacheRefusesMore() {
        KvCache c = cache(KvType.F32);
        fill(c, 0, 20);
        assertEquals(0, c.remaining());
        assertTrue(assertThrows(IllegalStateException.class, () -> c.checkRoom(1)).getMessage().contains("full"));
    }

    @Test
    void copyIsIndependent() {
        for (KvType t : KvType.values()) {
            KvCache c = cache(t);
            fill(c, 0, 9);
            KvCache d = c.copy();
            assertTrue(c.contentEquals(d));
            assertEquals(c.oldestPosition(1), d.oldestPosition(1));
            fill(d, 9, 12);
            assertEquals(9, c.length());
            assertEquals(12, d.length());
            float[] k = new float[6], v = new float[6];
            c.get(1, 8, k, v);
            assertEquals(8f, k[0], "the original's rolling slots are untouched");
        }
    }
}
