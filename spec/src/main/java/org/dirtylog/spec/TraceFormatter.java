package org.dirtylog.spec;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.StringJoiner;

/**
 * Formats a TLC counterexample for people: one step per row with the step number, the action
 * taken and only the variables that action changed (the initial state lists every variable).
 */
public final class TraceFormatter {

    private TraceFormatter() {
    }

    /** Returns the trace as text, headed by {@code title}, ending with a newline. */
    public static String format(String title, List<TraceStep> trace) {
        int width = "action".length();
        for (TraceStep step : trace) {
            width = Math.max(width, step.action().length());
        }
        StringBuilder out = new StringBuilder(title).append('\n').append('\n');
        out.append(String.format("%4s  %-" + width + "s  %s%n", "step", "action", "changed variables"));
        Map<String, String> previous = Map.of();
        for (TraceStep step : trace) {
            out.append(String.format("%4d  %-" + width + "s  %s%n",
                    step.number(), step.action(), changes(previous, step.variables())));
            if (!step.variables().isEmpty()) {
                previous = step.variables();
            }
        }
        return out.toString();
    }

    /** Returns {@code name = value} for each variable whose value differs from {@code before}. */
    static String changes(Map<String, String> before, Map<String, String> after) {
        StringJoiner joined = new StringJoiner(", ");
        after.forEach((name, value) -> {
            if (!Objects.equals(before.get(name), value)) {
                joined.add(name + " = " + value);
            }
        });
        String text = joined.toString();
        return text.isEmpty() ? "(no change)" : text;
    }
}
