package org.dirtylog.conformance;

import org.dirtylog.spi.DirtyLogBackend;

/**
 * A backend the kit wraps around a backend it loaded (the child JVM's fixed metadata), so that
 * what is decided from a backend's code (does it call native code, where the perturbation
 * agent cannot reach) looks at the backend's own classes, not the wrapper's.
 */
public interface Wrapping {

    /** Returns the backend this one wraps. */
    DirtyLogBackend wrapped();

    /** Returns the innermost backend of {@code backend}. */
    static Object unwrap(Object backend) {
        Object b = backend;
        while (b instanceof Wrapping w) {
            b = w.wrapped();
        }
        return b;
    }
}
