package dev.jllm.inference.messaging;

import dev.jllm.contracts.FinishReason;
import dev.jllm.contracts.RequestFailed;
import dev.jllm.contracts.TokenGenerated;
import dev.jllm.contracts.Usage;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** What decides when an inference command's offset may be committed (plain JUnit: no Kafka, no Quarkus). */
class UncommittedRequestsTest {

    @Test
    void aRequestIsDoneOnlyWhenItEndsAndARedeliveryWhileInFlightIsNotHandedOverAgain() {
        UncommittedRequests uncommitted = new UncommittedRequests();
        AtomicInteger handedOver = new AtomicInteger();
        CompletionStage<Void> first = uncommitted.begin("r1", handedOver::incrementAndGet);
        assertEquals(1, handedOver.get());
        assertFalse(first.toCompletableFuture().isDone(), "running: its offset must not be committed yet");

        CompletionStage<Void> again = uncommitted.begin("r1", handedOver::incrementAndGet);
        assertEquals(1, handedOver.get(), "a redelivery of a request in flight here is not run twice");
        assertSame(first, again, "and is done when the first delivery is");

        uncommitted.end("r1");
        assertTrue(first.toCompletableFuture().isDone());
        assertEquals(0, uncommitted.size());
        uncommitted.end("r1"); // a late second end is harmless

        CompletionStage<Void> later = uncommitted.begin("r1", handedOver::incrementAndGet);
        assertEquals(2, handedOver.get(), "after it ended, a redelivery goes to the scheduler (which drops it and says so)");
        assertFalse(later.toCompletableFuture().isDone());
    }

    @Test
    void aRequestEndedWhileItIsHandedOverIsDoneAtOnce() {
        UncommittedRequests uncommitted = new UncommittedRequests();
        CompletionStage<Void> refused = uncommitted.begin("full", () -> uncommitted.end("full")); // the 429 of a full queue
        assertTrue(refused.toCompletableFuture().isDone());
        assertEquals(0, uncommitted.size());
    }

    @Test
    void aHandOverThatThrowsLeavesNothingBehind() {
        UncommittedRequests uncommitted = new UncommittedRequests();
        assertThrows(IllegalStateException.class, () -> uncommitted.begin("x", () -> {
            throw new IllegalStateException("no scheduler");
        }));
        assertEquals(0, uncommitted.size(), "the record goes to the dead letters; a redelivery is handed over again");
    }

    @Test
    void theFinalEventIsTheLastTokenOrTheError() {
        assertFalse(UncommittedRequests.isFinal(new TokenGenerated("r", "g", 0, 5, "a", null, null, null)));
        assertTrue(UncommittedRequests.isFinal(new TokenGenerated("r", "g", 1, -1, "", null, FinishReason.STOP, new Usage(3, 1, 0))));
        assertTrue(UncommittedRequests.isFinal(new RequestFailed("r", "g", 429, "rate_limit_exceeded", "full", null, "queue_full")));
    }
}
