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
 */
public record RuleResult(Rule rule, Verdict verdict, String message, String expected, String actual,
                         List<Step> scenario, double seconds) {

    public RuleResult {
        scenario = List.copyOf(scenario);
    }
}
