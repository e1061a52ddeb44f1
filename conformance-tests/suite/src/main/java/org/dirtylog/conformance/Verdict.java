package org.dirtylog.conformance;

/** The outcome of one rule against one backend. */
public enum Verdict {
    /** The backend behaved as the rule says. */
    PASS,
    /** The backend behaved otherwise; the result carries expected vs actual and the scenario. */
    FAIL,
    /** The backend lacks a capability the rule needs; the result names it. */
    NOT_APPLICABLE,
    /** The rule could not reach a verdict: the backend threw, a vCPU crashed, or it timed out. */
    ERROR
}
