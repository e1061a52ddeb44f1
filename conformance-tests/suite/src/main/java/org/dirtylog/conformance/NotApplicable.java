package org.dirtylog.conformance;

/**
 * Thrown by a check that finds, once running, that the backend cannot host it (for example a
 * guest physical range too small for the slot it needs); the runner reports NOT_APPLICABLE.
 */
public final class NotApplicable extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public NotApplicable(String reason) {
        super(reason, null, false, false);
    }
}
