package org.dirtylog.arch.ppc;

import org.dirtylog.kvm.ReferenceBackend;

/** The reference backend {@code reference-ppc}: the generic core with {@link Book3sHooks}. */
public final class Book3sReferenceBackend extends ReferenceBackend {

    /** Creates the backend, as {@code ServiceLoader} does. */
    public Book3sReferenceBackend() {
        super("reference-ppc",
                "Reference PowerPC book3s PR: in-place bitmap swap with a grace period, per-vCPU shadow PTE flush",
                Book3sHooks::new);
    }
}
