package org.dirtylog.conformance;

/**
 * Thrown when the backend failed in a way that says nothing about the rule (a vCPU that
 * crashed, a VM that could not be created); the runner turns it into an ERROR verdict.
 */
public final class BackendError extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public BackendError(String message) {
        super(message, null, false, false);
    }
}
