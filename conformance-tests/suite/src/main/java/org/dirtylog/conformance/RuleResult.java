package org.dirtylog.conformance;

import java.util.List;

/**
 * The verdict of one rule against one backend.
 *
 * @param rule the rule
 * @param verdict PASS, FAIL, NOT_APPLICABLE or ERROR
 * @param message one line: why it failed, what was missing, what went wrong; a summary for PASS
 * @param expected what the rule demanded (FAIL only, else empty)
 * @param actual what the backend did (FAIL only, else empty)
 * @param scenario the calls the rule made, in order, with their results
 * @param seconds wall time of the rule
 * @param concurrency what a race rule covered (vCPUs, writes, harvests, judged writes,
 *                    perturbation); null for the other rules and for a race rule that did not
 *                    get that far
 * @param trace the calls and results recorded for {@code certify --trace}, with the check's
 *              verdict once checked; null without {@code --trace}
 */
public record RuleResult(Rule rule, Verdict verdict, String message, String expected, String actual,
                         List<Step> scenario, double seconds, Concurrency concurrency, RuleTrace trace) {

    public RuleResult {
        scenario = List.copyOf(scenario);
    }

    /** Returns a result without a trace. */
    public RuleResult(Rule rule, Verdict verdict, String message, String expected, String actual, List<Step> scenario,
                      double seconds, Concurrency concurrency) {
        this(rule, verdict, message, expected, actual, scenario, seconds, concurrency, null);
    }

    /** Returns this result with {@code t} as its trace. */
    public RuleResult withTrace(RuleTrace t) {
        return new RuleResult(rule, verdict, message, expected, actual, scenario, seconds, concurrency, t);
    }

    /** Returns a result without a concurrency record. */
    public RuleResult(Rule rule, Verdict verdict, String message, String expected, String actual, List<Step> scenario,
                      double seconds) {
        this(rule, verdict, message, expected, actual, scenario, seconds, null);
    }
}
