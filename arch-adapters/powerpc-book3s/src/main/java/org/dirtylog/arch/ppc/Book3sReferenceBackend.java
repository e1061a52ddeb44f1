package org.dirtylog.arch.ppc;

import java.util.Set;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.Defect;
import org.dirtylog.kvm.ReferenceBackend;

/** The reference backend {@code reference-ppc}: the generic core with {@link Book3sHooks}. */
public final class Book3sReferenceBackend extends ReferenceBackend {

    /** Creates the correct backend. */
    public Book3sReferenceBackend() {
        this(Set.of());
    }

    /** Creates the backend with {@code defects} injected (named e.g. {@code reference-ppc+50e92b3c}). */
    public Book3sReferenceBackend(Set<Defect> defects) {
        super("reference-ppc", defects);
    }

    @Override
    public String description() {
        return "Reference PowerPC book3s PR: in-place bitmap swap with a grace period, per-vCPU shadow PTE flush";
    }

    @Override
    protected ArchHooks createHooks() {
        return new Book3sHooks();
    }
}
