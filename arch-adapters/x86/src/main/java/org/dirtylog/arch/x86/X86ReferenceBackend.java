package org.dirtylog.arch.x86;

import org.dirtylog.kvm.ReferenceBackend;

/** The reference backend {@code reference-x86}: the generic core with {@link X86Hooks}. */
public final class X86ReferenceBackend extends ReferenceBackend {

    /** Creates the backend, as {@code ServiceLoader} does. */
    public X86ReferenceBackend() {
        super("reference-x86",
                "Reference x86: memslots array republished with exchanged bitmaps, write-protect after the swap (edde99ce order)",
                X86Hooks::new);
    }
}
