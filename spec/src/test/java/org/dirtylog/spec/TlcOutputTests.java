package org.dirtylog.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
