package org.dirtylog.conformance.isolation;

/**
 * The user's request to stop (Ctrl-C): once {@link #trigger}ed, the child JVM running now is
 * killed, any child started later is killed at once, and the run records that it was interrupted.
 */
public final class Interruption {

    private volatile boolean set;
    private volatile ChildProcess current;

    /** Marks the run as interrupted and kills its running child JVM. */
    public void trigger() {
        set = true;
        ChildProcess c = current;
        if (c != null) {
            c.kill();
        }
    }

    /** Returns true once {@link #trigger} was called. */
    public boolean isSet() {
        return set;
    }

    void track(ChildProcess child) {
        current = child;
        if (set) {
            child.kill();
        }
    }

    void untrack(ChildProcess child) {
        if (current == child) {
            current = null;
        }
    }
}
