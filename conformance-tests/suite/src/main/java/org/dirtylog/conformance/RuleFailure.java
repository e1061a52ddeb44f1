package org.dirtylog.conformance;

/**
 * Thrown by a check when the backend's behaviour contradicts its rule; the runner turns it
 * into a FAIL verdict. It is the suite's control flow, not an error of the backend's API.
 */
public final class RuleFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String expected;
    private final String actual;

    public RuleFailure(String what, String expected, String actual) {
        super(what + ": expected " + expected + ", actual " + actual, null, false, false);
        this.expected = expected;
        this.actual = actual;
    }

    /** Returns what the rule demanded. */
    public String expected() {
        return expected;
    }

    /** Returns what the backend did. */
    public String actual() {
        return actual;
    }
}
