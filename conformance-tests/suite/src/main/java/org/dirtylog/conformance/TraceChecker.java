package org.dirtylog.conformance;

import java.util.Map;

/**
 * Checks rule traces against the user-visible contract. The suite records and writes traces;
 * checking needs TLC, which the suite does not depend on, so the command that runs the suite
 * (the kit's CLI) provides the checker.
 */
public interface TraceChecker {

    /**
     * Returns what checking each trace of {@code traces} (rule id to its trace, of one backend)
     * found, by rule id; the checker may check them all in one TLC run.
     *
     * @throws InterruptedException when the run is interrupted while the check runs
     */
    Map<String, TraceCheck> check(Map<String, RuleTrace> traces) throws InterruptedException;
}
