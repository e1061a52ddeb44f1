package org.dirtylog.conformance;

/** How binding a rule is, in the RFC 2119 sense. */
public enum Level {
    /** A backend that breaks it is not conformant. */
    MUST,
    /** A backend that breaks it loses no data but does more work than it should (precision). */
    SHOULD
}
