package org.dirtylog.conformance.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The options of one command: parsed from {@code --name value} or {@code --name=value}, and
 * described in its {@code --help}. Every mistake is a {@link UsageError} with one line.
 */
final class CommandLine {

    /**
     * One option.
     *
     * @param name e.g. {@code --seed}
     * @param value what its value is called in the help, e.g. {@code N}; null for a flag
     * @param meaning what it does
     * @param byDefault what happens without it
     * @param repeatable whether it may be given more than once
     */
    record Option(String name, String value, String meaning, String byDefault, boolean repeatable) {
    }

    /** A command line that cannot be run: one line for the user. */
    static final class UsageError extends Exception {
        private static final long serialVersionUID = 1L;

        UsageError(String message) {
            super(message);
        }
    }

    /** The values given, by option name; {@link #help()} when {@code --help} was asked for. */
    record Parsed(Map<String, List<String>> values, boolean help) {
        List<String> all(String name) {
            return values.getOrDefault(name, List.of());
        }

        Optional<String> one(String name) {
            List<String> v = all(name);
            return v.isEmpty() ? Optional.empty() : Optional.of(v.get(0));
        }

        boolean has(String name) {
            return values.containsKey(name);
        }
    }

    private final String command;
    private final String summary;
    private final List<Option> options;

    CommandLine(String command, String summary, List<Option> options) {
        this.command = command;
        this.summary = summary;
        this.options = List.copyOf(options);
    }

    /** Returns the options in {@code args}. */
    Parsed parse(List<String> args) throws UsageError {
        Map<String, List<String>> values = new LinkedHashMap<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--help") || a.equals("-h")) {
                return new Parsed(values, true);
            }
            if (!a.startsWith("--")) {
                throw new UsageError("unexpected argument '" + a + "'");
            }
            int eq = a.indexOf('=');
            String name = eq > 0 ? a.substring(0, eq) : a;
            Option o = options.stream().filter(x -> x.name().equals(name)).findFirst()
                    .orElseThrow(() -> new UsageError("unknown option '" + name + "'"));
            String value;
            if (o.value() == null) {
                if (eq > 0) {
                    throw new UsageError("option " + name + " takes no value");
                }
                value = "";
            } else if (eq > 0) {
                value = a.substring(eq + 1);
            } else if (i + 1 < args.size() && !args.get(i + 1).startsWith("--")) {
                value = args.get(++i);
            } else {
                throw new UsageError("option " + name + " needs a value (" + name + " " + o.value() + ")");
            }
            List<String> list = values.computeIfAbsent(name, k -> new ArrayList<>());
            if (!list.isEmpty() && !o.repeatable()) {
                throw new UsageError("option " + name + " is given twice");
            }
            list.add(value);
        }
        return new Parsed(values, false);
    }

    /** Returns the one-line usage. */
    String usage() {
        StringBuilder b = new StringBuilder("usage: dirtylog ").append(command);
        for (Option o : options) {
            String one = o.name() + (o.value() == null ? "" : " " + o.value());
            b.append(" [").append(one).append(']').append(o.repeatable() ? "..." : "");
        }
        return b.toString();
    }

    /** Returns the {@code --help} text: usage, what the command does, and every option with its meaning and default. */
    String help() {
        StringBuilder b = new StringBuilder(usage()).append("\n").append(summary).append("\n\noptions:\n");
        int width = 0;
        for (Option o : options) {
            width = Math.max(width, label(o).length());
        }
        width = Math.max(width, "--help".length());
        for (Option o : options) {
            b.append(String.format(Locale.ROOT, "  %-" + width + "s  %s%n", label(o), o.meaning()));
            b.append(String.format(Locale.ROOT, "  %-" + width + "s  default: %s%n", "", o.byDefault()));
        }
        b.append(String.format(Locale.ROOT, "  %-" + width + "s  %s%n", "--help", "print this help and exit"));
        b.append("An option with a value may also be written --option=value.");
        return b.toString();
    }

    private static String label(Option o) {
        return o.name() + (o.value() == null ? "" : " " + o.value()) + (o.repeatable() ? " (repeatable)" : "");
    }
}
