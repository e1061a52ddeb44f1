package org.dirtylog.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class TraceFormatterTests {

    private static Map<String, String> vars(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void eachStepIsOneRowShowingOnlyTheVariablesItsActionChanged() {
        List<TraceStep> trace = List.of(
                new TraceStep(1, "Initial predicate", vars("wp", "{p1}", "bits", "<<{}, {}>>")),
                new TraceStep(2, "VcpuWriteFault", vars("wp", "{}", "bits", "<<{p1}, {}>>")),
                new TraceStep(3, "WriteProtect", vars("wp", "{p1}", "bits", "<<{p1}, {}>>")),
                new TraceStep(4, "Stuttering", Map.of()));
        String text = TraceFormatter.format("x86-rfc: violates:NoLostWrite", trace);
        assertEquals("""
                x86-rfc: violates:NoLostWrite

                step  action             changed variables
                   1  Initial predicate  wp = {p1}, bits = <<{}, {}>>
                   2  VcpuWriteFault     wp = {}, bits = <<{p1}, {}>>
                   3  WriteProtect       wp = {p1}
                   4  Stuttering         (no change)
                """, text);
    }
}
