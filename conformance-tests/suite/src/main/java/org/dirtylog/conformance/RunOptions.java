package org.dirtylog.conformance;

import java.time.Duration;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How a certification run is configured.
 *
 * @param seed the run's seed; every rule derives its own randomness from it and its id
 * @param rules which rule ids to run, as a pattern ({@code GET-*}, {@code RACE-01,MODEL-*});
 *              empty runs the whole catalogue
 * @param timeout per-rule timeout that replaces the catalogue's, for tests of the runner
 * @param effort multiplies rounds, iterations and sequence counts of the randomized rules
 *               (1 = the default budget, which certifies a reference backend in well under a
 *               minute), within [{@value #MIN_EFFORT}, {@value #MAX_EFFORT}]; below 1 a run is
 *               never certified
 * @param trace record every rule's calls and results as a trace ({@code certify --trace})
 */
public record RunOptions(long seed, Optional<String> rules, Optional<Duration> timeout, double effort, boolean trace) {

    /**
     * The smallest effort: every randomized rule still runs at least one round of each kind,
     * which makes a quick smoke run, never a certificate.
     */
    public static final double MIN_EFFORT = 0.1;

    /**
     * The largest effort: twenty times the default budget (840 oracle iterations per race rule,
     * rule timeouts up to 800 s), the most one run may take before it is better split.
     */
    public static final double MAX_EFFORT = 20;

    public RunOptions {
        if (!(effort >= MIN_EFFORT && effort <= MAX_EFFORT)) {
            throw new IllegalArgumentException("effort must be in [" + MIN_EFFORT + ", " + MAX_EFFORT + "]: " + effort);
        }
    }

    /** Returns options that record no trace. */
    public RunOptions(long seed, Optional<String> rules, Optional<Duration> timeout, double effort) {
        this(seed, rules, timeout, effort, false);
    }

    /** Returns the default options with {@code seed}. */
    public static RunOptions withSeed(long seed) {
        return new RunOptions(seed, Optional.empty(), Optional.empty(), 1.0);
    }

    /** Returns these options restricted to the rules matching {@code pattern}. */
    public RunOptions withRules(String pattern) {
        return new RunOptions(seed, Optional.of(pattern), timeout, effort, trace);
    }

    /** Returns these options with every rule limited to {@code perRule}. */
    public RunOptions withTimeout(Duration perRule) {
        return new RunOptions(seed, rules, Optional.of(perRule), effort, trace);
    }

    /** Returns these options with the randomized rules' budget multiplied by {@code factor}. */
    public RunOptions withEffort(double factor) {
        return new RunOptions(seed, rules, timeout, factor, trace);
    }

    /** Returns these options recording a trace of every rule ({@code on}) or none. */
    public RunOptions withTrace(boolean on) {
        return new RunOptions(seed, rules, timeout, effort, on);
    }

    /** Returns true when rule {@code id} is selected by {@link #rules()}. */
    public boolean selects(String id) {
        if (rules.isEmpty()) {
            return true;
        }
        for (String part : rules.get().split(",")) {
            String glob = part.trim();
            if (glob.isEmpty()) {
                continue;
            }
            String regex = Pattern.quote(glob).replace("*", "\\E.*\\Q").replace("?", "\\E.\\Q");
            if (Pattern.compile(regex, Pattern.CASE_INSENSITIVE).matcher(id).matches()) {
                return true;
            }
        }
        return false;
    }

    /** Returns {@code n} scaled by the effort, at least 1. */
    public int scaled(int n) {
        return Math.max(1, (int) Math.round(n * effort));
    }

    /**
     * Returns how long {@code rule} may run: {@link #timeout()} when set, else the rule's own
     * timeout times the effort when the effort is above 1.
     */
    public Duration timeoutFor(Rule rule) {
        return timeout.orElseGet(() -> Duration.ofMillis((long) (rule.timeout().toMillis() * Math.max(1.0, effort))));
    }

    /**
     * How many of its timeouts a rule may run while it keeps making progress: a rule is hung
     * when no call returns on its thread for one {@link #timeoutFor} (a loaded machine slows a
     * rule's fixed work, it does not stop it), and stopped at this many timeouts in any case.
     */
    public static final int PROGRESS_TIMEOUTS = 10;

    /** Returns the longest {@code rule} may run while making progress: {@link #PROGRESS_TIMEOUTS} of its timeouts. */
    public Duration maxRunFor(Rule rule) {
        return timeoutFor(rule).multipliedBy(PROGRESS_TIMEOUTS);
    }
}
