package org.dirtylog.spec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.StringJoiner;

/**
 * Formats a TLC counterexample for people: one step per row with the step number, the action
 * taken and only the variables that action changed (the initial state lists every variable).
 * A liveness counterexample ends with a line saying which steps repeat forever.
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
            String changes = changes(previous, step.variables());
            if (step.closesLoop()) {
                changes += "  <- back to the state of step " + step.backTo();
            }
            out.append(String.format("%4d  %-" + width + "s  %s%n", step.number(), step.action(), changes));
            if (!step.variables().isEmpty()) {
                previous = step.variables();
            }
        }
        loop(trace).ifPresent(line -> out.append('\n').append(line).append('\n'));
        return out.toString();
    }

    /** Returns the sentence that says how a liveness counterexample goes on forever, if it is one. */
    static Optional<String> loop(List<TraceStep> trace) {
        if (trace.size() < 2) {
            return Optional.empty();
        }
        TraceStep last = trace.get(trace.size() - 1);
        if (last.closesLoop()) {
            int first = last.backTo() + 1;
            String steps = first == last.number() ? "step " + first + " repeats"
                    : "steps " + first + "-" + last.number() + " repeat";
            return Optional.of("Loop: step " + last.number() + " returns to the state of step " + last.backTo()
                    + ", so " + steps + " forever.");
        }
        if (last.action().equals("Stuttering")) {
            return Optional.of("Loop: from step " + (last.number() - 1) + " on nothing changes, forever.");
        }
        return Optional.empty();
    }

    /**
     * Returns {@code name = value} for each variable whose value differs from {@code before};
     * for a function or tuple whose domain did not change, only the changed entries
     * ({@code pc[v1] = "lookup"}), so a step of one vCPU does not repeat every other vCPU.
     */
    static String changes(Map<String, String> before, Map<String, String> after) {
        StringJoiner joined = new StringJoiner(", ");
        after.forEach((name, value) -> {
            String old = before.get(name);
            if (Objects.equals(old, value)) {
                return;
            }
            Optional<Map<String, String>> was = old == null ? Optional.empty() : entries(old);
            Optional<Map<String, String>> now = entries(value);
            if (was.isPresent() && now.isPresent() && was.get().keySet().equals(now.get().keySet())) {
                now.get().forEach((key, v) -> {
                    if (!v.equals(was.get().get(key))) {
                        joined.add(name + "[" + key + "] = " + v);
                    }
                });
            } else {
                joined.add(name + " = " + value);
            }
        });
        String text = joined.toString();
        return text.isEmpty() ? "(no change)" : text;
    }

    /**
     * Returns the entries of a TLC function value {@code (a :> 1 @@ b :> 2)} or tuple
     * {@code <<x, y>>} (keys 1, 2, ...), or empty for any other value.
     */
    static Optional<Map<String, String>> entries(String value) {
        String v = value.trim();
        Map<String, String> entries = new LinkedHashMap<>();
        if (v.startsWith("<<") && v.endsWith(">>") && closes(v, 2)) {
            String inner = v.substring(2, v.length() - 2).trim();
            if (inner.isEmpty()) {
                return Optional.empty();
            }
            List<String> items = splitTopLevel(inner, ",");
            for (int i = 0; i < items.size(); i++) {
                entries.put(Integer.toString(i + 1), items.get(i).trim());
            }
            return Optional.of(entries);
        }
        if (v.startsWith("(") && v.endsWith(")") && closes(v, 1)) {
            for (String item : splitTopLevel(v.substring(1, v.length() - 1), "@@")) {
                List<String> pair = splitTopLevel(item, ":>");
                if (pair.size() != 2) {
                    return Optional.empty();
                }
                entries.put(pair.get(0).trim(), pair.get(1).trim());
            }
            return Optional.of(entries);
        }
        return Optional.empty();
    }

    /** Returns whether the opening bracket of {@code open} characters closes only at the end. */
    private static boolean closes(String v, int open) {
        return depthStaysNonNegative(v.substring(open, v.length() - open));
    }

    private static boolean depthStaysNonNegative(String s) {
        int depth = 0;
        boolean quoted = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (!quoted && s.startsWith("<<", i)) {
                depth++;
                i++;
            } else if (!quoted && s.startsWith(">>", i)) {
                depth--;
                i++;
            } else if (!quoted && "([{".indexOf(c) >= 0) {
                depth++;
            } else if (!quoted && ")]}".indexOf(c) >= 0) {
                depth--;
            }
            if (depth < 0) {
                return false;
            }
        }
        return depth == 0 && !quoted;
    }

    /** Splits {@code s} at each {@code separator} outside brackets, tuples and strings. */
    static List<String> splitTopLevel(String s, String separator) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        boolean quoted = false;
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (quoted) {
                continue;
            } else if (s.startsWith("<<", i)) {
                depth++;
                i++;
            } else if (s.startsWith(">>", i)) {
                depth--;
                i++;
            } else if ("([{".indexOf(c) >= 0) {
                depth++;
            } else if (")]}".indexOf(c) >= 0) {
                depth--;
            } else if (depth == 0 && s.startsWith(separator, i)) {
                parts.add(s.substring(start, i));
                start = i + separator.length();
                i = start - 1;
            }
        }
        parts.add(s.substring(start));
        return parts;
    }
}
