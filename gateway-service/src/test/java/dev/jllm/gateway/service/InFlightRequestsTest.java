package dev.jllm.gateway.service;

import dev.jllm.contracts.GenerationEvent;
import dev.jllm.contracts.RequestFailed;
import dev.jllm.gateway.config.GatewayConfig;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The in-flight registry alone: the bound, removal, and routing of events to their request. */
class InFlightRequestsTest {

    /** A config whose only answer is {@code maxInFlight}. */
    private static GatewayConfig limit(int max) {
        return (GatewayConfig) Proxy.newProxyInstance(GatewayConfig.class.getClassLoader(), new Class<?>[]{GatewayConfig.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("maxInFlight")) return max;
                    throw new UnsupportedOperationException(method.getName());
                });
    }

    private static GenerationEvent failed(String requestId) {
        return RequestFailed.invalid(requestId, "gw", "x", null);
    }

    @Test
    void refusesPastTheLimitAndFreesOnRemove() {
        var inFlight = new InFlightRequests(limit(2));
        assertTrue(inFlight.register("a", e -> {}));
        assertTrue(inFlight.register("b", e -> {}));
        assertFalse(inFlight.register("c", e -> {}));
        assertEquals(2, inFlight.size(), "a refused request does not count");
        inFlight.remove("a");
        inFlight.remove("a"); // twice: counted once
        inFlight.remove("never-registered");
        assertEquals(1, inFlight.size());
        assertTrue(inFlight.register("c", e -> {}));
        assertFalse(inFlight.register("d", e -> {}));
    }

    @Test
    void aDuplicateIdIsAnErrorAndLeavesTheCountAlone() {
        var inFlight = new InFlightRequests(limit(4));
        assertTrue(inFlight.register("a", e -> {}));
        assertThrows(IllegalStateException.class, () -> inFlight.register("a", e -> {}));
        assertEquals(1, inFlight.size());
    }

    @Test
    void eventsGoToTheirRequestOnly() {
        var inFlight = new InFlightRequests(limit(4));
        List<GenerationEvent> a = new ArrayList<>(), b = new ArrayList<>();
        inFlight.register("a", a::add);
        inFlight.register("b", b::add);
        assertTrue(inFlight.dispatch(failed("b")));
        assertFalse(inFlight.dispatch(failed("other-gateways-request")));
        assertEquals(List.of(), a);
        assertEquals(List.of(failed("b")), b);
        inFlight.remove("b");
        assertFalse(inFlight.dispatch(failed("b")), "a finished request gets nothing more");
        assertEquals(1, b.size());
    }
}
