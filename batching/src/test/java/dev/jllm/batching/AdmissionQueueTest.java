package dev.jllm.batching;

import dev.jllm.contracts.Priority;
import dev.jllm.contracts.PromptTokenized;
import dev.jllm.contracts.SamplingParams;
import dev.jllm.contracts.TokenGenerated;
import dev.jllm.engine.LanguageModel;
import dev.jllm.engine.Models;
import dev.jllm.tokenizer.Tokenizer;
import dev.jllm.tokenizer.Tokenizers;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Interactive before batch, FIFO within a class: the queue alone, then the scheduler on the real model. */
class AdmissionQueueTest {

    private static PromptTokenized req(String id, Priority priority) {
        return new PromptTokenized(id, "gw", id, null, "m", new int[] {1, 2}, SamplingParams.greedy(4), List.of(), priority, 0);
    }

    private static List<String> drainIds(AdmissionQueue q) {
        List<String> out = new ArrayList<>();
        for (PromptTokenized p; (p = q.poll()) != null; ) out.add(p.requestId());
        return out;
    }

    @Test
    void interactiveRequestsGoFirstAndEachClassKeepsItsOrder() {
        AdmissionQueue q = new AdmissionQueue();
        q.add(req("b1", Priority.BATCH));
        q.add(req("b2", Priority.BATCH));
        q.add(req("i1", Priority.INTERACTIVE));
        q.add(req("b3", Priority.BATCH));
        q.add(req("i2", Priority.INTERACTIVE));
        q.add(req("n1", null)); // no priority: interactive
        assertEquals(6, q.size());
        assertEquals("i1", q.peek().requestId());
        List<String> iterated = new ArrayList<>();
        q.forEach(p -> iterated.add(p.requestId()));
        assertEquals(List.of("i1", "i2", "n1", "b1", "b2", "b3"), iterated);
        assertEquals(List.of("i1", "i2", "n1", "b1", "b2", "b3"), drainIds(q));
        assertTrue(q.isEmpty());
        assertNull(q.peek());
    }

    @Test
    void removeIfReachesBothClasses() {
        AdmissionQueue q = new AdmissionQueue();
        q.add(req("b1", Priority.BATCH));
        q.add(req("i1", Priority.INTERACTIVE));
        q.add(req("b2", Priority.BATCH));
        assertTrue(q.removeIf(p -> p.requestId().equals("b1") || p.requestId().equals("i1")));
        assertFalse(q.removeIf(p -> p.requestId().equals("nope")));
        assertEquals(List.of("b2"), drainIds(q));
    }

    @Test
    void anInteractiveRequestSubmittedAfterBatchOnesIsAdmittedFirst() throws Exception {
        Assumptions.assumeTrue(java.nio.file.Files.exists(SchedulerTest.MODEL), "needs " + SchedulerTest.MODEL);
        LanguageModel model = Models.load(SchedulerTest.MODEL);
        Tokenizer tokenizer = Tokenizers.fromGguf(SchedulerTest.MODEL);
        SchedulerTest.Sink sink = new SchedulerTest.Sink();
        List<String> firstEvents = java.util.Collections.synchronizedList(new ArrayList<>());
        GenerationSink recording = e -> {
            if (e instanceof TokenGenerated t && t.index() == 0) firstEvents.add(t.requestId());
            sink.emit(e);
        };
        var prompt = tokenizer.encode("Once upon a time", true, false);
        // one running slot; everything is queued before the scheduler thread starts, so admission alone decides
        Scheduler s = new Scheduler(model, tokenizer, recording,
                new Scheduler.Limits(1, 64, 1L << 30, 512, dev.jllm.engine.kv.KvCacheOptions.DEFAULT, 1000));
        try (s) {
            for (String id : List.of("b1", "b2", "b3")) {
                s.submit(new PromptTokenized(id, "gw", id, null, "m", prompt, SamplingParams.greedy(8), List.of(), Priority.BATCH, 0));
            }
            s.submit(new PromptTokenized("i1", "gw", "i1", null, "m", prompt, SamplingParams.greedy(8), List.of(), Priority.INTERACTIVE, 0));
            s.start();
            sink.await(List.of("b1", "b2", "b3", "i1"));
        } finally {
            model.close();
        }
        assertEquals(List.of("i1", "b1", "b2", "b3"), firstEvents);
        assertEquals(sink.ids("b1"), sink.ids("i1"), "same prompt, same greedy tokens whatever the class");
    }
}
