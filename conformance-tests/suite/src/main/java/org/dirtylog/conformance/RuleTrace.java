package org.dirtylog.conformance;

import java.util.List;

/**
 * The trace of one rule's run ({@code certify --trace}) and, once checked, the check's verdict.
 *
 * @param events one compact JSON object per event, in the order of their {@code seq} (see {@link TraceLog})
 * @param dropped events not kept past {@link TraceLog#MAX_EVENTS}; a trace that dropped any is not checked
 * @param check what checking the trace against the contract found; null until checked
 */
public record RuleTrace(List<String> events, int dropped, TraceCheck check) {

    public RuleTrace {
        events = List.copyOf(events);
    }

    /** Returns where rule {@code id}'s trace is in the report, relative to the backend's folder. */
    public static String file(String id) {
        return "traces/" + id + ".ndjson";
    }

    /** Returns this trace with {@code verdict} as its check. */
    public RuleTrace checked(TraceCheck verdict) {
        return new RuleTrace(events, dropped, verdict);
    }
}
