package org.dirtylog.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlcOutputTests {

    private static final String INVARIANT_RUN = """
            @!@!@STARTMSG 2262:0 @!@!@
            TLC2 Version 2.18 of 20 March 2023
            @!@!@ENDMSG 2262 @!@!@
            @!@!@STARTMSG 2190:0 @!@!@
            Finished computing initial states: 1 distinct state generated at 2026-11-25 20:29:48.
            @!@!@ENDMSG 2190 @!@!@
            @!@!@STARTMSG 2110:1 @!@!@
            Invariant NoLostWrite is violated.
            @!@!@ENDMSG 2110 @!@!@
            @!@!@STARTMSG 2121:1 @!@!@
            The behavior up to this point is:
            @!@!@ENDMSG 2121 @!@!@
            @!@!@STARTMSG 2217:4 @!@!@
            1: <Initial predicate>
            /\\ arrays = <<[logging |-> TRUE, active |-> 1, cold |-> 2]>>
            /\\ wp = {p1}

            @!@!@ENDMSG 2217 @!@!@
            @!@!@STARTMSG 2217:4 @!@!@
            2: <PublishMemslots line 315, col 5 to line 337, col 29 of module DirtyLog>
            /\\ arrays = << [logging |-> TRUE, active |-> 1, cold |-> 2],
               [logging |-> TRUE, active |-> 2, cold |-> 1] >>
            /\\ wp = {p1}

            @!@!@ENDMSG 2217 @!@!@
            @!@!@STARTMSG 2200:0 @!@!@
            Progress(5) at 2026-11-25 20:29:48: 13 states generated (1,119 s/min), 10 distinct states found (860 ds/min), 2 states left on queue.
            @!@!@ENDMSG 2200 @!@!@
            @!@!@STARTMSG 2199:0 @!@!@
            1,313 states generated, 1,020 distinct states found, 2 states left on queue.
            @!@!@ENDMSG 2199 @!@!@
            """;

    private static TlcOutput feed(String text, List<Long> counts) {
        TlcOutput output = new TlcOutput(counts::add);
        text.lines().forEach(output::accept);
        return output;
    }

    private static ModelConfig config(Path dir, String text) throws IOException {
        Path cfg = dir.resolve("M.cfg");
        Files.writeString(cfg, text);
        return ModelConfig.read(cfg);
    }

    @Test
    void anInvariantViolationNamesTheInvariantTheLastCountAndTheTrace(@TempDir Path dir) throws IOException {
        List<Long> counts = new ArrayList<>();
        TlcResult result = feed(INVARIANT_RUN, counts)
                .result(12, config(dir, "INVARIANT NoLostWrite\n"), m -> m + ".tla", 1.5);
        assertEquals("violates:NoLostWrite", result.verdict());
        assertEquals(1020, result.distinctStates());
        assertEquals(List.of(1L, 10L, 1020L), counts);
        assertEquals(2, result.trace().size());
        assertEquals("Initial predicate", result.trace().get(0).action());
        assertEquals("PublishMemslots", result.trace().get(1).action());
        assertEquals("<< [logging |-> TRUE, active |-> 1, cold |-> 2], [logging |-> TRUE, active |-> 2, cold |-> 1] >>",
                result.trace().get(1).variables().get("arrays"));
        assertTrue(result.error().isEmpty());
    }

    @Test
    void anUnnamedTemporalOrActionPropertyTakesTheNameOfTheOnlyPropertyChecked(@TempDir Path dir)
            throws IOException {
        String run = """
                @!@!@STARTMSG 2112:1 @!@!@
                Action property line 57, col 17 to line 57, col 29 of module SrcuGracePeriod is violated.
                @!@!@ENDMSG 2112 @!@!@
                """;
        TlcResult result = feed(run, new ArrayList<>())
                .result(13, config(dir, "PROPERTY\n    RefinesGracePeriod\n"), m -> m, 0);
        assertEquals("violates:RefinesGracePeriod", result.verdict());
        TlcResult two = feed(run, new ArrayList<>())
                .result(13, config(dir, "PROPERTIES A B\n"), m -> m, 0);
        assertEquals("violates:temporal-property", two.verdict());
    }

    @Test
    void exitStatusesMapToVerdicts(@TempDir Path dir) throws IOException {
        ModelConfig cfg = config(dir, "INVARIANT TypeOK\n");
        assertEquals("holds", feed("", new ArrayList<>()).result(0, cfg, m -> m, 0).verdict());
        assertEquals("deadlock", feed("", new ArrayList<>()).result(11, cfg, m -> m, 0).verdict());
        assertEquals("violates:Assert", feed("", new ArrayList<>()).result(14, cfg, m -> m, 0).verdict());
        assertEquals("error", feed("", new ArrayList<>()).result(150, cfg, m -> m, 0).verdict());
    }

    @Test
    void aSemanticErrorIsLocatedInTheModuleFileAndLine(@TempDir Path dir) throws IOException {
        String run = """
                Semantic processing of module DirtyLog
                Semantic errors:

                *** Errors: 1

                line 165, col 20 to line 165, col 21 of module DirtyLog

                Could not find declaration or definition of symbol ':>'.

                @!@!@STARTMSG 3002:1 @!@!@
                Parsing or semantic analysis failed.
                @!@!@ENDMSG 3002 @!@!@
                """;
        TlcResult result = feed(run, new ArrayList<>())
                .result(150, config(dir, "INVARIANT TypeOK\n"), m -> "models/" + m + ".tla", 0);
        assertEquals(new SpecError("models/DirtyLog.tla", 165,
                "Could not find declaration or definition of symbol ':>'."), result.error().orElseThrow());
    }

    @Test
    void aConfigurationErrorPointsAtTheLineNamingTheMissingDefinition(@TempDir Path dir) throws IOException {
        String run = """
                @!@!@STARTMSG 2229:1 @!@!@
                The invariant Nope specified in the configuration file
                is not defined in the specification.
                @!@!@ENDMSG 2229 @!@!@
                """;
        ModelConfig cfg = config(dir, "CONSTANT N = 2\nSPECIFICATION Spec\nINVARIANT\n    TypeOK\n    Nope\n");
        SpecError error = feed(run, new ArrayList<>()).result(151, cfg, m -> m, 0).error().orElseThrow();
        assertEquals(5, error.line());
        assertTrue(error.message().startsWith("The invariant Nope specified"), error.message());
    }

    @Test
    void traceValuesSpanningSeveralLinesAreJoinedAndASingleVariableNeedsNoConjunction() {
        assertEquals(Map.of("x", "0"), TlcOutput.variables("x = 0"));
        Map<String, String> vars = TlcOutput.variables("/\\ f = (v1 :> 1 @@\n    v2 :> 2)\n/\\ g = {}");
        assertEquals("(v1 :> 1 @@ v2 :> 2)", vars.get("f"));
        assertEquals("{}", vars.get("g"));
        assertEquals("Stuttering", TlcOutput.actionName("Stuttering"));
        assertEquals("VcpuStore", TlcOutput.actionName("<VcpuStore line 225, col 5 to line 232, col 27 of module DirtyLog>"));
    }

    /** The end of the x86-grace-period-starves counterexample as TLC 2.18 prints it (variables cut). */
    private static final String LASSO_RUN = """
            @!@!@STARTMSG 2116:1 @!@!@
            Temporal properties were violated.

            @!@!@ENDMSG 2116 @!@!@
            @!@!@STARTMSG 2264:1 @!@!@
            The following behavior constitutes a counter-example:

            @!@!@ENDMSG 2264 @!@!@
            @!@!@STARTMSG 2217:4 @!@!@
            1: <Initial predicate>
            /\\ op = "none"
            /\\ pc = (v1 :> "idle" @@ v2 :> "idle")

            @!@!@ENDMSG 2217 @!@!@
            @!@!@STARTMSG 2217:4 @!@!@
            2: <LogOff line 418, col 5 to line 421, col 75 of module DirtyLog>
            /\\ op = "logoff"
            /\\ pc = (v1 :> "idle" @@ v2 :> "idle")

            @!@!@ENDMSG 2217 @!@!@
            @!@!@STARTMSG 2217:4 @!@!@
            3: <VcpuEnterSrcu line 310, col 5 to line 313, col 67 of module DirtyLog>
            /\\ op = "logoff"
            /\\ pc = (v1 :> "idle" @@ v2 :> "lookup")

            @!@!@ENDMSG 2217 @!@!@
            @!@!@STARTMSG 2217:4 @!@!@
            4: <VcpuExitSrcu line 381, col 5 to line 386, col 53 of module DirtyLog>
            /\\ op = "logoff"
            /\\ pc = (v1 :> "idle" @@ v2 :> "idle")

            @!@!@ENDMSG 2217 @!@!@
            @!@!@STARTMSG 2122:4 @!@!@
            3: Back to state: <VcpuEnterSrcu line 310, col 5 to line 313, col 67 of module DirtyLog>

            @!@!@ENDMSG 2122 @!@!@
            @!@!@STARTMSG 2267:0 @!@!@
            Finished checking temporal properties in 00s at 2026-12-01 07:51:05
            @!@!@ENDMSG 2267 @!@!@
            """;

    @Test
    void aLivenessCounterexampleEndsWithTheStepThatReturnsToAnEarlierState(@TempDir Path dir) throws IOException {
        TlcResult result = feed(LASSO_RUN, new ArrayList<>())
                .result(13, config(dir, "PROPERTY RegionUpdateCompletes\n"), m -> m, 0);
        assertEquals("violates:RegionUpdateCompletes", result.verdict());
        assertEquals(5, result.trace().size());
        TraceStep last = result.trace().get(4);
        assertEquals(5, last.number());
        assertEquals("VcpuEnterSrcu", last.action());
        assertEquals(3, last.backTo());
        assertTrue(last.closesLoop());
        assertEquals(result.trace().get(2).variables(), last.variables(), "the loop closes in state 3's values");
        assertFalse(result.trace().get(3).closesLoop());
    }

    @Test
    void aBackToStateNamingNoStateOfTheTraceIsIgnored() {
        List<TlcMessage> messages = List.of(
                new TlcMessage(TlcMessage.TRACE_STATE, 4, "1: <Initial predicate>\n/\\ x = 0"),
                new TlcMessage(TlcMessage.BACK_TO_STATE, 4, "7: Back to state: <Next line 1, col 1 of module M>"));
        assertEquals(1, TlcOutput.trace(messages).size());
    }

    @Test
    void theCoverageOfTheLastReportNamesEachActionOnceWithItsCountsSummed() {
        String run = """
                @!@!@STARTMSG 2201:0 @!@!@
                The coverage statistics at 2026-12-01 07:43:13
                @!@!@ENDMSG 2201 @!@!@
                @!@!@STARTMSG 2772:0 @!@!@
                <LogOn line 298, col 1 to line 298, col 5 of module DirtyLog>: 0:0
                @!@!@ENDMSG 2772 @!@!@
                @!@!@STARTMSG 2201:0 @!@!@
                The coverage statistics at 2026-12-01 07:44:13
                @!@!@ENDMSG 2201 @!@!@
                @!@!@STARTMSG 2773:0 @!@!@
                <Init line 174, col 1 to line 174, col 4 of module DirtyLog>: 2:2
                @!@!@ENDMSG 2773 @!@!@
                @!@!@STARTMSG 2772:0 @!@!@
                <VcpuWriteFault line 216, col 1 to line 216, col 17 of module DirtyLog (218 5 232 68)>: 635:3434
                @!@!@ENDMSG 2772 @!@!@
                @!@!@STARTMSG 2221:0 @!@!@
                  line 199, col 8 to line 199, col 21 of module DirtyLog: 43744
                @!@!@ENDMSG 2221 @!@!@
                @!@!@STARTMSG 2772:0 @!@!@
                <LogOn line 298, col 1 to line 298, col 5 of module DirtyLog>: 0:0
                @!@!@ENDMSG 2772 @!@!@
                @!@!@STARTMSG 2772:0 @!@!@
                <VcpuWriteFault line 216, col 1 to line 216, col 17 of module DirtyLog (218 5 232 68)>: 5:6
                @!@!@ENDMSG 2772 @!@!@
                @!@!@STARTMSG 2202:0 @!@!@
                End of statistics.
                @!@!@ENDMSG 2202 @!@!@
                """;
        TlcOutput output = feed(run, new ArrayList<>());
        assertEquals(List.of(new ActionCoverage("VcpuWriteFault", 640, 3440), new ActionCoverage("LogOn", 0, 0)),
                output.coverage());
        TlcResult result = output.result(0, null, m -> m, 0);
        assertEquals(List.of("LogOn"), result.untakenActions());
    }
}
