package dev.jllm.bench;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TraceReportTest {

    @Test
    void joinsLogLinesIntoStepsInPathOrder() {
        Map<String, Map<String, Long>> byRequest = new HashMap<>();
        // three requests (i = 1..3): "a" 10i us after the start, "b" 100i, the end 1000i; so b -> end is 900i
        for (int i = 1; i <= 3; i++) {
            long t0 = 1_000_000L * i;
            TraceReport.read("12:00:00 DEBUG [jllm.trace] (main) trace r" + i + " b " + (t0 + 100 * i), byRequest);
            TraceReport.read("trace r" + i + " " + TraceReport.START + " " + t0, byRequest);
            TraceReport.read("trace r" + i + " a " + (t0 + 10 * i), byRequest);
            TraceReport.read("trace r" + i + " a " + (t0 + 999), byRequest); // a redelivery: the first mark counts
            TraceReport.read("trace r" + i + " " + TraceReport.END + " " + (t0 + 1000 * i), byRequest);
        }
        TraceReport.read("trace r4 " + TraceReport.START + " 9000000", byRequest); // never finished: left out
        TraceReport.read("an unrelated line", byRequest);

        List<Map<String, Long>> complete = TraceReport.complete(byRequest, 10);
        assertEquals(3, complete.size());
        assertEquals(List.of(
                new TraceReport.Step(TraceReport.START, "a", 20, 30),
                new TraceReport.Step("a", "b", 180, 270),
                new TraceReport.Step("b", TraceReport.END, 1800, 2700)), TraceReport.steps(complete));
        assertEquals(2, TraceReport.complete(byRequest, 2).size());
    }
}
