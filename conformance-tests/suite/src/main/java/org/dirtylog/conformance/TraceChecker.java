package org.dirtylog.conformance;

/**
 * Checks rule traces against the user-visible contract. The suite records and writes traces;
 * checking needs TLC, which the suite does not depend on, so the command that runs the suite
 * (the kit's CLI) provides the checker.
 */
public interface TraceChecker {

    /**
     * Returns what checking {@code trace} of rule {@code ruleId} found.
     *
     * @throws InterruptedException when the run is interrupted while the check runs
     */
    TraceCheck check(String ruleId, RuleTrace trace) throws InterruptedException;
}
