package org.dirtylog.spec;

import java.util.Map;

/**
 * One state of a TLC counterexample.
 *
 * @param number    the state's number in the behavior (1 is the initial state)
 * @param action    the action that led to it ({@code Initial predicate}, {@code Stuttering}, ...)
 * @param variables variable name to TLC's printed value, in TLC's order; empty for stuttering
 * @param backTo    for the last step of a liveness counterexample that closes a loop (TLC's
 *                  "Back to state"), the number of the earlier state this step returns to;
 *                  0 for every other step
 */
public record TraceStep(int number, String action, Map<String, String> variables, int backTo) {

    /** Creates a step that does not close a loop. */
    public TraceStep(int number, String action, Map<String, String> variables) {
        this(number, action, variables, 0);
    }

    /** Returns whether this step returns to an earlier state, closing the lasso of a liveness counterexample. */
    public boolean closesLoop() {
        return backTo > 0;
    }
}
