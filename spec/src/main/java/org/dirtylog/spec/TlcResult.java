package org.dirtylog.spec;

import java.util.List;
import java.util.Optional;

/**
 * What one TLC run found.
 *
 * @param exitCode       TLC's exit status (0 ok, 11 deadlock, 12 safety, 13 liveness, 14 assert)
 * @param verdict        {@code holds}, {@code violates:<Property>}, {@code deadlock} or
 *                       {@code error}
 * @param distinctStates distinct states TLC reported, or -1 when it reported none
 * @param trace          the counterexample, empty when there is none
 * @param error          the located spec/config error when {@code verdict} is {@code error}
 * @param seconds        wall-clock seconds of the run
 * @param coverage       TLC's coverage of each action of the next-state relation, in TLC's
 *                       order; empty when TLC printed none
 */
public record TlcResult(
        int exitCode,
        String verdict,
        long distinctStates,
        List<TraceStep> trace,
        Optional<SpecError> error,
        double seconds,
        List<ActionCoverage> coverage) {

    /** Creates a result without coverage. */
    public TlcResult(int exitCode, String verdict, long distinctStates, List<TraceStep> trace,
                     Optional<SpecError> error, double seconds) {
        this(exitCode, verdict, distinctStates, trace, error, seconds, List.of());
    }

    /** Verdict of a model in which every checked property held. */
    public static final String HOLDS = "holds";
    /** Prefix of the verdict naming a violated property. */
    public static final String VIOLATES = "violates:";
    /** Verdict of a run that reached a deadlock (with deadlock checking on). */
    public static final String DEADLOCK = "deadlock";
    /** Verdict of a run that could not check the model. */
    public static final String ERROR = "error";

    /** Returns this result with {@code seconds} replaced. */
    public TlcResult withSeconds(double newSeconds) {
        return new TlcResult(exitCode, verdict, distinctStates, trace, error, newSeconds, coverage);
    }

    /** Returns the actions TLC reported but never took, in TLC's order. */
    public List<String> untakenActions() {
        return coverage.stream().filter(c -> !c.taken()).map(ActionCoverage::action).toList();
    }
}
