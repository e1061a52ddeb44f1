package org.dirtylog.conformance;

import java.util.Optional;

/**
 * What checking a rule's trace against the user-visible contract found.
 *
 * @param outcome {@link #CONFORMS}, {@link #REJECTED} or {@link #NOT_CHECKED}
 * @param message one line: "trace conforms", the first event the contract cannot explain, or why
 *                the trace was not checked
 * @param behaviours how many behaviours (VMs) the trace holds and were checked
 * @param events how many events were checked
 * @param step the {@code seq} of the first event the contract cannot explain, when rejected
 * @param state the contract's state just before that event (TLA+ values), when rejected
 * @param seconds wall time of the check (generating the module and TLC)
 */
public record TraceCheck(String outcome, String message, int behaviours, int events, Optional<Long> step,
                         Optional<String> state, double seconds) {

    /** Every behaviour of the trace is a behaviour of the contract. */
    public static final String CONFORMS = "conforms";
    /** Some event is not a step the contract allows from any state the events before it lead to. */
    public static final String REJECTED = "rejected";
    /** The trace was not checked (incomplete, or the checker could not run); the message says why. */
    public static final String NOT_CHECKED = "not checked";

    /** Returns a verdict that the trace was not checked, for {@code why}. */
    public static TraceCheck notChecked(String why, int events) {
        return new TraceCheck(NOT_CHECKED, why, 0, events, Optional.empty(), Optional.empty(), 0);
    }
}
