package dev.jllm.engine.model.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jllm.engine.safetensors.SafetensorsModel;
import dev.jllm.engine.tensor.WeightMatrix;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Llama 4's stacked input-major experts, transposed into engine rows, at sizes that cross tile edges. */
class HfWeightsTest {
    @TempDir
    Path tmp;

    static float value(int e, int c, int o) {
        return e * 10000 + c * 1000 + o + 0.5f; // exact in F32 and identifies its source element
    }

    @Test
    void expertSlicesAreTransposedExactly() throws IOException {
        for (String dtype : new String[] {"F32", "BF16"}) {
            int experts = 2, in = 5, hidden = 67, totalOut = 2 * hidden; // 67 rows: one full tile of 64 and 3 more
            int es = dtype.equals("F32") ? 4 : 2;
            ByteBuffer b = ByteBuffer.allocate(experts * in * totalOut * es).order(ByteOrder.LITTLE_ENDIAN);
            for (int e = 0; e < experts; e++) {
                for (int c = 0; c < in; c++) {
                    for (int o = 0; o < totalOut; o++) {
                        // BF16 keeps 8 bits of mantissa: use small values that survive
                        float v = es == 4 ? value(e, c, o) : (e * 8 + c) * 0.25f + (o % 8);
                        if (es == 4) b.putFloat(v);
                        else b.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
                    }
                }
            }
            Path dir = tmp.resolve(dtype);
            java.nio.file.Files.createDirectories(dir);
            Map<String, byte[]> data = new LinkedHashMap<>();
            Map<String, long[]> shapes = new LinkedHashMap<>();
            data.put("g", b.array());
            shapes.put("g", new long[] {experts, in, totalOut});
            HfLoaderTest.writeSafetensors(dir.resolve("model.safetensors"), dtype, data, shapes);
            try (SafetensorsModel m = SafetensorsModel.open(dir); Arena arena = Arena.ofConfined()) {
                HfWeights w = new HfWeights(m, arena, true);
                for (int e = 0; e < experts; e++) {
                    for (int half = 0; half < 2; half++) {
                        WeightMatrix mat = w.expertTransposed("g", experts, in, totalOut, e, half * hidden, hidden);
                        assertEquals(hidden, mat.rows());
                        assertEquals(in, mat.cols());
                        float[] row = new float[in];
                        for (int r = 0; r < hidden; r++) {
                            mat.row(r, row, 0);
                            for (int c = 0; c < in; c++) {
                                int o = half * hidden + r;
                                float expected = es == 4 ? value(e, c, o) : (e * 8 + c) * 0.25f + (o % 8);
                                assertEquals(expected, row[c], dtype + " expert " + e + " out " + o + " in " + c);
                            }
                        }
                    }
                }
            }
        }
    }
}
