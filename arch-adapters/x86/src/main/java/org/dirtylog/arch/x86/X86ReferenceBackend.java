package org.dirtylog.arch.x86;

import java.util.Set;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.Defect;
import org.dirtylog.kvm.ReferenceBackend;

/** The reference backend {@code reference-x86}: the generic core with {@link X86Hooks}. */
public final class X86ReferenceBackend extends ReferenceBackend {

    /** Creates the correct backend. */
    public X86ReferenceBackend() {
        this(Set.of());
    }

    /** Creates the backend with {@code defects} injected (named e.g. {@code reference-x86+edde99ce}). */
    public X86ReferenceBackend(Set<Defect> defects) {
        super("reference-x86", defects);
    }

    @Override
    public String description() {
        return "Reference x86: memslots array republished with exchanged bitmaps, write-protect after the swap (edde99ce order)";
    }

    @Override
    protected ArchHooks createHooks() {
        return new X86Hooks();
    }
}
