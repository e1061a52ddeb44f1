package org.dirtylog.spec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads TLC's {@code -tool} output line by line and turns it into a {@link TlcResult}: the
 * verdict (from the exit status and the violation message), the distinct-state count, the
 * counterexample (with the loop of a liveness counterexample), the coverage of each action and,
 * for a broken spec or configuration, the file and line at fault.
 */
public final class TlcOutput {

    private static final String START = "@!@!@STARTMSG ";
    private static final String END = "@!@!@ENDMSG ";
    private static final Pattern START_LINE = Pattern.compile("@!@!@STARTMSG (\\d+):(\\d+) @!@!@");
    private static final Pattern DISTINCT = Pattern.compile("([0-9,]+) distinct states? (?:found|generated)");
    private static final Pattern INVARIANT = Pattern.compile("Invariant (\\S+) is violated");
    private static final Pattern LOCATION = Pattern.compile(
            "line (\\d+), col(?:umn)? \\d+(?: to line \\d+, col \\d+)? of module (\\w+)");
    private static final Pattern PARSE_LOCATION = Pattern.compile("at line (\\d+), column \\d+");
    private static final Pattern PARSE_MODULE = Pattern.compile("Could not parse module (\\w+) from file (\\S+)");
    private static final Pattern STATE_HEADER = Pattern.compile("^(\\d+): (.*)$", Pattern.DOTALL);
    private static final Pattern BACK_TO_STATE = Pattern.compile("^(\\d+): Back to state:?\\s*(.*)$", Pattern.DOTALL);
    private static final Pattern COVERAGE_ACTION = Pattern.compile(
            "^<([A-Za-z_][A-Za-z0-9_!]*)(?: [^>]*)?>: (\\d+):(\\d+)\\s*$");
    private static final Pattern NAMED_IN_CONFIG = Pattern.compile(
            "^The (?:invariant|property|constant parameter|specification|initial predicate|next-state relation)"
                    + " (\\S+)");

    private final List<TlcMessage> messages = new ArrayList<>();
    private final List<String> plainLines = new ArrayList<>();
    private final Map<String, ActionCoverage> coverage = new LinkedHashMap<>();
    private final LongConsumer distinctStatesListener;
    private StringBuilder body;
    private int code;
    private int severity;

    /** Creates a reader that reports each distinct-state count TLC prints to the listener. */
    public TlcOutput(LongConsumer distinctStatesListener) {
        this.distinctStatesListener = distinctStatesListener;
    }

    /** Consumes one line of TLC's standard output. */
    public void accept(String line) {
        Matcher start = START_LINE.matcher(line);
        if (line.startsWith(START) && start.find()) {
            code = Integer.parseInt(start.group(1));
            severity = Integer.parseInt(start.group(2));
            body = new StringBuilder();
        } else if (line.startsWith(END) && body != null) {
            TlcMessage message = new TlcMessage(code, severity, body.toString().stripTrailing());
            messages.add(message);
            body = null;
            if (message.code() == TlcMessage.PROGRESS || message.code() == TlcMessage.STATS
                    || message.code() == TlcMessage.INIT_STATES) {
                distinct(message.text()).ifPresent(distinctStatesListener::accept);
            } else if (message.code() == TlcMessage.COVERAGE_START) {
                coverage.clear();
            } else if (message.code() == TlcMessage.COVERAGE_NEXT) {
                addCoverage(message.text());
            }
        } else if (body != null) {
            if (!body.isEmpty()) {
                body.append('\n');
            }
            body.append(line);
        } else {
            plainLines.add(line);
        }
    }

    /**
     * Adds one action's coverage; an action that occurs more than once in the next-state
     * relation is reported once per occurrence, and its counts are summed.
     */
    private void addCoverage(String text) {
        Matcher m = COVERAGE_ACTION.matcher(text.trim());
        if (!m.matches()) {
            return;
        }
        ActionCoverage line = new ActionCoverage(m.group(1), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)));
        coverage.merge(line.action(), line, (a, b) -> new ActionCoverage(a.action(),
                a.distinctStates() + b.distinctStates(), a.generatedStates() + b.generatedStates()));
    }

    /** Returns the action coverage of TLC's last coverage report, in TLC's order; empty before one. */
    public List<ActionCoverage> coverage() {
        return List.copyOf(coverage.values());
    }

    /** Returns the messages read so far. */
    public List<TlcMessage> messages() {
        return List.copyOf(messages);
    }

    /**
     * Returns the result of a finished run.
     *
     * @param exitCode TLC's exit status
     * @param config   the model's configuration (names the property TLC leaves unnamed)
     * @param fileOf   maps a module name to the file the user should open
     * @param seconds  wall-clock seconds of the run
     */
    public TlcResult result(int exitCode, ModelConfig config,
                            java.util.function.Function<String, String> fileOf, double seconds) {
        long states = -1;
        for (TlcMessage m : messages) {
            if (m.code() == TlcMessage.STATS || m.code() == TlcMessage.INIT_STATES
                    || m.code() == TlcMessage.PROGRESS) {
                long found = distinct(m.text()).orElse(-1L);
                if (found >= 0 && (m.code() != TlcMessage.INIT_STATES || states < 0)) {
                    states = found;
                }
            }
        }
        List<TraceStep> trace = trace(messages);
        String verdict = switch (exitCode) {
            case 0 -> TlcResult.HOLDS;
            case 11 -> TlcResult.DEADLOCK;
            case 12 -> violatedInvariant().map(n -> TlcResult.VIOLATES + n).orElse(TlcResult.ERROR);
            case 13 -> TlcResult.VIOLATES + unnamedProperty(config);
            case 14 -> TlcResult.VIOLATES + "Assert";
            default -> TlcResult.ERROR;
        };
        Optional<SpecError> error = verdict.equals(TlcResult.ERROR)
                ? Optional.of(specError(exitCode, config, fileOf))
                : Optional.empty();
        return new TlcResult(exitCode, verdict, states, trace, error, seconds, coverage());
    }

    private Optional<String> violatedInvariant() {
        for (TlcMessage m : messages) {
            if (m.code() == TlcMessage.INVARIANT_VIOLATED_BEHAVIOR
                    || m.code() == TlcMessage.INVARIANT_VIOLATED_INITIAL) {
                Matcher inv = INVARIANT.matcher(m.text());
                if (inv.find()) {
                    return Optional.of(inv.group(1));
                }
            }
        }
        return Optional.empty();
    }

    /** TLC names neither action nor temporal properties; a model that checks one names it. */
    private static String unnamedProperty(ModelConfig config) {
        return config.properties().size() == 1 ? config.properties().get(0) : "temporal-property";
    }

    private SpecError specError(int exitCode, ModelConfig config,
                                java.util.function.Function<String, String> fileOf) {
        for (int i = 0; i < plainLines.size(); i++) {
            Matcher module = PARSE_MODULE.matcher(plainLines.get(i));
            if (module.find()) {
                return parseError(module.group(1), fileOf);
            }
            if (plainLines.get(i).startsWith("Semantic errors:") || plainLines.get(i).startsWith("*** Errors:")) {
                for (int j = i + 1; j < plainLines.size(); j++) {
                    Matcher at = LOCATION.matcher(plainLines.get(j));
                    if (at.find()) {
                        return new SpecError(fileOf.apply(at.group(2)), Integer.parseInt(at.group(1)),
                                firstNonBlank(plainLines, j + 1));
                    }
                }
            }
        }
        for (TlcMessage m : messages) {
            if (!m.isError() || m.code() == TlcMessage.PARSE_FAILED) {
                continue;
            }
            String text = m.text().replaceFirst("^Error: ", "").replace('\n', ' ').trim();
            Matcher at = LOCATION.matcher(m.text());
            if (at.find()) {
                return new SpecError(fileOf.apply(at.group(2)), Integer.parseInt(at.group(1)),
                        firstSentence(m.text()));
            }
            Matcher named = NAMED_IN_CONFIG.matcher(text);
            return new SpecError(config.file().toString(), named.find() ? config.lineOf(named.group(1)) : 0, text);
        }
        String last = plainLines.stream().filter(l -> !l.isBlank()).reduce((a, b) -> b).orElse("");
        return new SpecError(config.file().toString(), 0, "TLC exited with status " + exitCode + ": " + last);
    }

    private SpecError parseError(String module, java.util.function.Function<String, String> fileOf) {
        int line = 0;
        String message = "parse error";
        for (int i = 0; i < plainLines.size(); i++) {
            if (plainLines.get(i).contains("***Parse Error***")) {
                message = firstNonBlank(plainLines, i + 1);
                Matcher at = PARSE_LOCATION.matcher(message);
                if (at.find()) {
                    line = Integer.parseInt(at.group(1));
                }
                break;
            }
            Matcher at = LOCATION.matcher(plainLines.get(i));
            if (line == 0 && at.find() && at.group(2).equals(module)) {
                line = Integer.parseInt(at.group(1));
                message = firstNonBlank(plainLines, i + 1);
            }
        }
        return new SpecError(fileOf.apply(module), line, message);
    }

    private static String firstNonBlank(List<String> lines, int from) {
        for (int i = from; i < lines.size(); i++) {
            if (!lines.get(i).isBlank()) {
                return lines.get(i).trim();
            }
        }
        return "";
    }

    private static String firstSentence(String text) {
        StringBuilder out = new StringBuilder();
        for (String line : text.split("\n")) {
            if (LOCATION.matcher(line).find() && !out.isEmpty()) {
                break;
            }
            if (!line.isBlank()) {
                out.append(out.isEmpty() ? "" : " ").append(line.trim());
            }
        }
        return out.toString().replaceFirst("^Error: ", "");
    }

    static Optional<Long> distinct(String text) {
        Matcher m = DISTINCT.matcher(text);
        Long last = null;
        while (m.find()) {
            last = Long.parseLong(m.group(1).replace(",", ""));
        }
        return Optional.ofNullable(last);
    }

    /**
     * Returns the counterexample in the messages: the last run of trace states, ending, for a
     * liveness counterexample, with the stuttering step or the step that returns to an earlier
     * state (the step then carries that state's number in {@link TraceStep#backTo()} and its
     * variables).
     */
    static List<TraceStep> trace(List<TlcMessage> messages) {
        List<TraceStep> steps = new ArrayList<>();
        for (TlcMessage m : messages) {
            if (m.code() == TlcMessage.BACK_TO_STATE) {
                backToState(m.text(), steps).ifPresent(steps::add);
                continue;
            }
            if (m.code() != TlcMessage.TRACE_STATE && m.code() != TlcMessage.TRACE_LOOP) {
                continue;
            }
            Matcher header = STATE_HEADER.matcher(m.text());
            if (!header.matches()) {
                continue;
            }
            int number = Integer.parseInt(header.group(1));
            String rest = header.group(2);
            int newline = rest.indexOf('\n');
            String title = newline < 0 ? rest : rest.substring(0, newline);
            String body = newline < 0 ? "" : rest.substring(newline + 1);
            if (number == 1) {
                steps.clear();
            }
            steps.add(new TraceStep(number, actionName(title), variables(body)));
        }
        return List.copyOf(steps);
    }

    /**
     * Returns the step that {@code N: Back to state: <Action ...>} describes: taking Action in the
     * last state leads back to state N.  Empty when the text is not of that form or names a state
     * the trace does not have.
     */
    private static Optional<TraceStep> backToState(String text, List<TraceStep> steps) {
        Matcher back = BACK_TO_STATE.matcher(text.trim());
        if (!back.matches() || steps.isEmpty()) {
            return Optional.empty();
        }
        int target = Integer.parseInt(back.group(1));
        String title = back.group(2).trim();
        int newline = title.indexOf('\n');
        String action = actionName(newline < 0 ? title : title.substring(0, newline));
        return steps.stream().filter(s -> s.number() == target).findFirst()
                .map(s -> new TraceStep(steps.get(steps.size() - 1).number() + 1,
                        action.isEmpty() ? "Back to state" : action, s.variables(), target));
    }

    /** Returns {@code Next} for {@code <Next line 6, col 9 to ... of module M>}. */
    static String actionName(String title) {
        String t = title.trim();
        if (t.startsWith("<") && t.endsWith(">")) {
            t = t.substring(1, t.length() - 1);
            int at = t.indexOf(" line ");
            return at < 0 ? t : t.substring(0, at);
        }
        return t;
    }

    /** Parses {@code /\ name = value} lines (values may continue on indented lines). */
    static Map<String, String> variables(String body) {
        Map<String, String> vars = new LinkedHashMap<>();
        String name = null;
        StringBuilder value = new StringBuilder();
        Pattern first = Pattern.compile("^(?:/\\\\ )?([A-Za-z_][A-Za-z0-9_]*) = (.*)$");
        for (String line : body.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            Matcher m = first.matcher(line);
            boolean startsVariable = m.matches() && (line.startsWith("/\\ ") || name == null);
            if (startsVariable) {
                if (name != null) {
                    vars.put(name, value.toString());
                }
                name = m.group(1);
                value.setLength(0);
                value.append(m.group(2).trim());
            } else if (name != null) {
                value.append(' ').append(line.trim());
            }
        }
        if (name != null) {
            vars.put(name, value.toString());
        }
        return vars;
    }
}
