package org.dirtylog.conformance;

/** How binding a rule is, in the RFC 2119 sense. */
public enum Level {
    /** A backend that breaks it is not conformant: its FAIL blocks certification. */
    MUST,
    /**
     * A backend that breaks it loses no data but does more work than it should (precision): its
     * FAIL certifies with a warning that every report shows first ({@link Certificate#warnings()}).
     */
    SHOULD
}
