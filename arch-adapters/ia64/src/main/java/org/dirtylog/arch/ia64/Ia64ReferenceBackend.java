package org.dirtylog.arch.ia64;

import org.dirtylog.kvm.ReferenceBackend;

/** The reference backend {@code reference-ia64}: the generic core with {@link Ia64Hooks}. */
public final class Ia64ReferenceBackend extends ReferenceBackend {

    /** Creates the backend, as {@code ServiceLoader} does. */
    public Ia64ReferenceBackend() {
        super("reference-ia64",
                "Reference IA64: VMM dirty log merged first, in-place swap, grace period, remote TLB flush",
                Ia64Hooks::new);
    }
}
