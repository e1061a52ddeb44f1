package org.dirtylog.conformance.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
        Map<String, RuleTrace> complete = new LinkedHashMap<>();
        for (RuleResult r : c.results()) {
            RuleTrace t = r.trace();
            if (t != null) {
                folder.write(base + RuleTrace.file(r.rule().id()), ndjson(t));
                if (t.dropped() == 0) {
                    complete.put(r.rule().id(), t);
                }
            }
        }
        long t0 = System.nanoTime();
        // An interrupted run writes what it has and ends: no TLC run after Ctrl-C.
        Map<String, TraceCheck> verdicts = complete.isEmpty() || c.interruption().isPresent() ? Map.of()
                : checker.check(complete);
        double seconds = (System.nanoTime() - t0) / 1e9;
        List<RuleResult> checked = new ArrayList<>();
        int conforming = 0;
        int rejected = 0;
        int notChecked = 0;
        for (RuleResult r : c.results()) {
            RuleTrace t = r.trace();
            if (t == null) {
                checked.add(r);
                continue;
            }
            TraceCheck verdict = t.dropped() > 0
                    ? TraceCheck.notChecked("incomplete: " + t.dropped() + " events past the limit of " + TraceLog.MAX_EVENTS
                            + " were not kept", t.events().size())
                    : verdicts.getOrDefault(r.rule().id(), TraceCheck.notChecked(c.interruption().isPresent()
                            ? "the run was interrupted" : "the checker returned no verdict", t.events().size()));
            switch (verdict.outcome()) {
                case TraceCheck.CONFORMS -> conforming++;
                case TraceCheck.REJECTED -> {
                    rejected++;
                    out.println("  trace " + r.rule().id() + " rejected: " + Text.line(verdict.message(), 300));
                }
                default -> notChecked++;
            }
            checked.add(r.withTrace(t.checked(verdict)));
        }
        long events = complete.values().stream().mapToLong(t -> t.events().size()).sum();
        out.println(String.format(Locale.ROOT, "  traces: %d conform, %d rejected, %d not checked; %d events, checked in %.1f s",
                conforming, rejected, notChecked, events, seconds));
        out.flush();
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
