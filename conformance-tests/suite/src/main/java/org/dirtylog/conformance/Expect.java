package org.dirtylog.conformance;

import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;

/**
 * The assertions of the checks: each one that does not hold ends the rule with a FAIL verdict
 * ({@link RuleFailure}) that says what was asked, what the rule demands and what the backend did.
 */
public final class Expect {

    private Expect() {
    }

    /** Fails the rule unless {@code condition}; {@code what} names the call or read being judged. */
    public static void that(boolean condition, String what, String expected, String actual) {
        if (!condition) {
            throw new RuleFailure(what, expected, actual);
        }
    }

    /** Fails the rule unless {@code r} returned the value {@code expected}. */
    public static void value(IoctlResult<Integer> r, int expected, String what) {
        that(r.isOk() && r.value() == expected, what, String.valueOf(expected), CallText.show(r));
    }

    /** Fails the rule unless {@code r} failed with {@code expected}. */
    public static void errno(IoctlResult<?> r, Errno expected, String what) {
        that(expected.equals(r.errnoOrNull()), what, expected.toString(), CallText.show(r));
    }
}
