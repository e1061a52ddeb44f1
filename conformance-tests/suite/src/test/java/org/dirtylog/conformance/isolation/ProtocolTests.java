package org.dirtylog.conformance.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import org.dirtylog.conformance.RuleCatalogue;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.RuleTrace;
import org.dirtylog.conformance.RunOptions;
import org.dirtylog.conformance.Step;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.conformance.report.Json;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.Capability;
import org.junit.jupiter.api.Test;

class ProtocolTests {

    @Test
    void aResultCrossesThePipeExactlyOnOneLineWhateverItsText() throws Exception {
        String text = "lone \uD800 and \uDC00, pair \uD83D\uDE00, \uFFFF, \u0000, line\nbreak";
        RuleResult r = new RuleResult(RuleCatalogue.byId("GET-05").orElseThrow(), Verdict.FAIL, text, "-EINVAL", text,
                List.of(new Step("vm", text, "-ENOENT")), 0.25);
        byte[] line = Json.COMPACT.writeValueAsBytes(Protocol.result(r));
        String s = new String(line, StandardCharsets.UTF_8);
        assertFalse(s.contains("\n"), s);
        RuleResult back = Protocol.result(Json.COMPACT.readTree(line));
        assertEquals(r, back);
    }

    @Test
    void aTraceCrossesThePipeWithItsLinesAndDroppedCountUnchanged() throws Exception {
        String hostile = "{\"seq\":0,\"op\":\"lone \\ud800, line\\nbreak, quote \\\" \u2028\"}";
        RuleTrace t = new RuleTrace(List.of(hostile, "{\"seq\":1}"), 3, null);
        RuleResult r = new RuleResult(RuleCatalogue.byId("GET-01").orElseThrow(), Verdict.PASS, "", "", "", List.of(), 0.5,
                null, t);
        byte[] line = Json.COMPACT.writeValueAsBytes(Protocol.result(r));
        assertFalse(new String(line, StandardCharsets.UTF_8).contains("\n"));
        assertEquals(t, Protocol.result(Json.COMPACT.readTree(line)).trace());
        RuleResult untraced = new RuleResult(r.rule(), Verdict.PASS, "", "", "", List.of(), 0.5);
        assertEquals(null, Protocol.result(Json.COMPACT.readTree(Json.COMPACT.writeValueAsBytes(Protocol.result(untraced))))
                .trace());
    }

    @Test
    void optionsAndCapabilitiesCrossThePipeExactly() {
        RunOptions o = new RunOptions(Long.MIN_VALUE, Optional.of("GET-*"), Optional.of(Duration.ofMillis(700)), 0.1);
        assertEquals(o, Protocol.options(Protocol.options(o)));
        assertEquals(o.withTrace(true), Protocol.options(Protocol.options(o.withTrace(true))));
        Capabilities c = new Capabilities(EnumSet.of(Capability.GET_DIRTY_LOG, Capability.GUEST_WRITES), 0, 3, 0x1000,
                0x7fff_ffff_f000L);
        assertEquals(c, Protocol.capabilities(Protocol.capabilities(c)));
    }
}
