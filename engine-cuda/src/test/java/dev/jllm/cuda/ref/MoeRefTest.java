package dev.jllm.cuda.ref;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** MoE routing by hand. */
class MoeRefTest {
    static final float TOL = 1e-6f;

    @Test
    void mixtralSoftmaxOverTheChosenTwo() {
        MoeRef.Route r = MoeRef.route(new float[]{1, 3, 2, 0}, 0, 4, 2, MoeRef.SOFTMAX_TOPK);
        assertArrayEquals(new int[]{1, 2}, r.experts());
        double e = Math.exp(1);  // weights e^3 / (e^3 + e^2) and e^2 / (e^3 + e^2)
        assertArrayEquals(new float[]{(float) (e / (e + 1)), (float) (1 / (e + 1))}, r.weights(), TOL);
    }

    @Test
    void softmaxOverAllKeepsOrRenormalises() {
        float[] logits = {0, 0, Float.NEGATIVE_INFINITY, (float) Math.log(2)};  // probs 1/4, 1/4, 0, 1/2
        MoeRef.Route all = MoeRef.route(logits, 0, 4, 2, MoeRef.SOFTMAX_ALL);
        assertArrayEquals(new int[]{3, 0}, all.experts(), "ties go to the lower id");
        assertArrayEquals(new float[]{0.5f, 0.25f}, all.weights(), TOL);
        MoeRef.Route renorm = MoeRef.route(logits, 0, 4, 2, MoeRef.SOFTMAX_ALL_RENORM);
        assertArrayEquals(new float[]{2f / 3, 1f / 3}, renorm.weights(), TOL);
        assertThrows(IllegalArgumentException.class, () -> MoeRef.route(logits, 0, 4, 2, 7));
    }
}
