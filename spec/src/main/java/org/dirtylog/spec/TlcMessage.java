package org.dirtylog.spec;

/**
 * One message TLC printed in {@code -tool} mode, between {@code @!@!@STARTMSG code:severity}
 * and {@code @!@!@ENDMSG code}.
 *
 * @param code     TLC's message code (e.g. 2110 invariant violated, 2217 trace state)
 * @param severity 0 info, 1 error, 4 trace state (TLC's {@code MP} classes)
 * @param text     the message body, lines joined with {@code \n}
 */
public record TlcMessage(int code, int severity, String text) {

    /** Invariant violated by a behavior. */
    public static final int INVARIANT_VIOLATED_BEHAVIOR = 2110;
    /** Invariant violated by an initial state. */
    public static final int INVARIANT_VIOLATED_INITIAL = 2107;
    /** Action property violated. */
    public static final int ACTION_PROPERTY_VIOLATED = 2112;
    /** Deadlock reached. */
    public static final int DEADLOCK_REACHED = 2114;
    /** Temporal properties violated. */
    public static final int TEMPORAL_PROPERTY_VIOLATED = 2116;
    /** One state of a counterexample. */
    public static final int TRACE_STATE = 2217;
    /** Stuttering step ending a liveness counterexample ({@code N: Stuttering}). */
    public static final int TRACE_LOOP = 2218;
    /** Step closing the loop of a liveness counterexample ({@code N: Back to state: <Action ...>}). */
    public static final int BACK_TO_STATE = 2122;
    /** Start of a coverage report ({@code -coverage}); the action lines of one report follow. */
    public static final int COVERAGE_START = 2201;
    /** Coverage of one action of the next-state relation: {@code <Action ...>: distinct:generated}. */
    public static final int COVERAGE_NEXT = 2772;
    /** Coverage of the initial predicate. */
    public static final int COVERAGE_INIT = 2773;
    /** Initial states computed (carries their count). */
    public static final int INIT_STATES = 2190;
    /** Final statistics: states generated, distinct states found. */
    public static final int STATS = 2199;
    /** Progress report (once a minute). */
    public static final int PROGRESS = 2200;
    /** Parsing or semantic analysis failed. */
    public static final int PARSE_FAILED = 3002;

    /** Returns whether TLC classified this message as an error. */
    public boolean isError() {
        return severity == 1;
    }
}
