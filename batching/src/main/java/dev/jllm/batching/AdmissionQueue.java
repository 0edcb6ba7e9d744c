package dev.jllm.batching;

import dev.jllm.contracts.Priority;
import dev.jllm.contracts.PromptTokenized;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Requests waiting for admission, one FIFO per {@link Priority}: every interactive request is admitted before
 * any batch one (jobs fill the batch only with what interactive traffic leaves free), and within a class the
 * arrival order holds, so the turns of one conversation never overtake each other. A request without a
 * priority counts as interactive. Owned by the scheduler thread; not thread-safe.
 */
final class AdmissionQueue implements Iterable<PromptTokenized> {
    private final ArrayDeque<PromptTokenized> interactive = new ArrayDeque<>();
    private final ArrayDeque<PromptTokenized> batch = new ArrayDeque<>();

    void add(PromptTokenized p) {
        (p.priority() == Priority.BATCH ? batch : interactive).add(p);
    }

    /** The next request to admit (interactive first), or null. */
    PromptTokenized peek() {
        return interactive.isEmpty() ? batch.peek() : interactive.peek();
    }

    PromptTokenized poll() {
        return interactive.isEmpty() ? batch.poll() : interactive.poll();
    }

    boolean isEmpty() {
        return interactive.isEmpty() && batch.isEmpty();
    }

    int size() {
        return interactive.size() + batch.size();
    }

    boolean removeIf(Predicate<PromptTokenized> filter) {
        boolean a = interactive.removeIf(filter);
        boolean b = batch.removeIf(filter);
        return a || b;
    }

    /** In admission order. */
    @Override
    public Iterator<PromptTokenized> iterator() {
        return Stream.concat(interactive.stream(), batch.stream()).iterator();
    }
}
