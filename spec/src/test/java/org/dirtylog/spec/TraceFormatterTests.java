package org.dirtylog.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
                   2  VcpuWriteFault     wp = {}, bits[1] = {p1}
                   3  WriteProtect       wp = {p1}
                   4  Stuttering         (no change)

                Loop: from step 3 on nothing changes, forever.
                """, text);
    }

    @Test
    void aFunctionOrTupleShowsOnlyItsChangedEntriesWhileItsDomainStaysTheSame() {
        assertEquals("pc[v1] = \"lookup\"", TraceFormatter.changes(
                vars("pc", "(v1 :> \"idle\" @@ v2 :> \"idle\")"),
                vars("pc", "(v1 :> \"lookup\" @@ v2 :> \"idle\")")));
        assertEquals("lockCount[1] = (0 :> 1 @@ 1 :> 0)", TraceFormatter.changes(
                vars("lockCount", "<<(0 :> 0 @@ 1 :> 0), (0 :> 0 @@ 1 :> 0)>>"),
                vars("lockCount", "<<(0 :> 1 @@ 1 :> 0), (0 :> 0 @@ 1 :> 0)>>")));
        assertEquals("arrays = << [a |-> 1], [a |-> 2] >>", TraceFormatter.changes(
                vars("arrays", "<<[a |-> 1]>>"), vars("arrays", "<< [a |-> 1], [a |-> 2] >>")),
                "a tuple that grew is shown whole");
        assertEquals("s[2] = \"x, y\"", TraceFormatter.changes(
                vars("s", "<<\"a\", \"b\">>"), vars("s", "<<\"a\", \"x, y\">>")),
                "separators inside strings do not split");
        assertEquals("set = {1, 2}", TraceFormatter.changes(vars("set", "{1}"), vars("set", "{1, 2}")));
    }

    @Test
    void aLassoShowsTheStepThatReturnsAndWhichStepsRepeatForever() {
        Map<String, String> lookup = vars("pc", "(v1 :> \"lookup\")", "op", "\"logoff\"");
        List<TraceStep> trace = List.of(
                new TraceStep(1, "Initial predicate", vars("pc", "(v1 :> \"idle\")", "op", "\"none\"")),
                new TraceStep(2, "LogOff", vars("pc", "(v1 :> \"idle\")", "op", "\"logoff\"")),
                new TraceStep(3, "VcpuEnterSrcu", lookup),
                new TraceStep(4, "VcpuExitSrcu", vars("pc", "(v1 :> \"idle\")", "op", "\"logoff\"")),
                new TraceStep(5, "VcpuEnterSrcu", lookup, 3));
        assertEquals("""
                starves: violates:RegionUpdateCompletes

                step  action             changed variables
                   1  Initial predicate  pc = (v1 :> "idle"), op = "none"
                   2  LogOff             op = "logoff"
                   3  VcpuEnterSrcu      pc[v1] = "lookup"
                   4  VcpuExitSrcu       pc[v1] = "idle"
                   5  VcpuEnterSrcu      pc[v1] = "lookup"  <- back to the state of step 3

                Loop: step 5 returns to the state of step 3, so steps 4-5 repeat forever.
                """, TraceFormatter.format("starves: violates:RegionUpdateCompletes", trace));
    }

    @Test
    void aLoopOfOneStepAndAStutteringEndAreSaidInWords() {
        Map<String, String> one = vars("x", "1");
        assertEquals("Loop: step 3 returns to the state of step 2, so step 3 repeats forever.",
                TraceFormatter.loop(List.of(new TraceStep(1, "Initial predicate", vars("x", "0")),
                        new TraceStep(2, "Inc", one), new TraceStep(3, "Stay", one, 2))).orElseThrow());
        assertEquals("Loop: from step 2 on nothing changes, forever.",
                TraceFormatter.loop(List.of(new TraceStep(1, "Initial predicate", vars("x", "0")),
                        new TraceStep(2, "Inc", one), new TraceStep(3, "Stuttering", Map.of()))).orElseThrow());
        assertTrue(TraceFormatter.loop(List.of(new TraceStep(1, "Initial predicate", vars("x", "0")),
                new TraceStep(2, "Inc", one))).isEmpty(), "a safety counterexample has no loop");
    }
}
