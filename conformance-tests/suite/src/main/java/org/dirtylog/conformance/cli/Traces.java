package org.dirtylog.conformance.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.RuleTrace;
import org.dirtylog.conformance.TraceCheck;
import org.dirtylog.conformance.TraceChecker;
import org.dirtylog.conformance.TraceLog;
import org.dirtylog.conformance.report.ReportFolder;
import org.dirtylog.conformance.report.Text;

/** {@code certify --trace}: writes each rule's trace into the report and checks it against the contract. */
final class Traces {

    private Traces() {
    }

    /**
     * Writes the trace of every rule of {@code c} that has one to {@code prefix/traces/RULE.ndjson}
     * and returns {@code c} with each trace's check filled in by {@code checker}; a line per rule
     * goes to {@code out}.
     */
    static Certificate writeAndCheck(ReportFolder folder, String prefix, Certificate c, TraceChecker checker,
                                     PrintStream out) throws IOException, InterruptedException {
        String base = prefix.isEmpty() ? "" : prefix + "/";
        List<RuleResult> checked = new ArrayList<>();
        int conforming = 0;
        int all = 0;
        long t0 = System.nanoTime();
        for (RuleResult r : c.results()) {
            RuleTrace t = r.trace();
            if (t == null) {
                checked.add(r);
                continue;
            }
            folder.write(base + RuleTrace.file(r.rule().id()), ndjson(t));
            TraceCheck verdict = t.dropped() > 0
                    ? TraceCheck.notChecked("incomplete: " + t.dropped() + " events past the limit of " + TraceLog.MAX_EVENTS
                            + " were not kept", t.events().size())
                    : checker.check(r.rule().id(), t);
            all++;
            if (verdict.outcome().equals(TraceCheck.CONFORMS)) {
                conforming++;
            }
            out.println(String.format(Locale.ROOT, "  trace %-13s %-12s %6.2fs  %s", r.rule().id(), verdict.outcome(),
                    verdict.seconds(), Text.line(verdict.message(), 110)).stripTrailing());
            out.flush();
            checked.add(r.withTrace(t.checked(verdict)));
        }
        out.println(String.format(Locale.ROOT, "  traces: %d of %d conform (%.1f s)", conforming, all,
                (System.nanoTime() - t0) / 1e9));
        return new Certificate(c.backend(), c.description(), c.capabilities(), c.kitVersion(), c.options(), c.backendJars(),
                c.started(), c.seconds(), checked, c.interruption(), c.environment());
    }

    /** Returns the trace as NDJSON: one event per line, each line ending in a newline. */
    static byte[] ndjson(RuleTrace t) {
        StringBuilder b = new StringBuilder();
        for (String line : t.events()) {
            b.append(line).append('\n');
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }
}
