package org.dirtylog.spec;

import java.util.Map;

/**
 * One state of a TLC counterexample.
 *
 * @param number    the state's number in the behavior (1 is the initial state)
 * @param action    the action that led to it ({@code Initial predicate}, {@code Stuttering}, ...)
 * @param variables variable name to TLC's printed value, in TLC's order; empty for stuttering
 */
public record TraceStep(int number, String action, Map<String, String> variables) {
}
