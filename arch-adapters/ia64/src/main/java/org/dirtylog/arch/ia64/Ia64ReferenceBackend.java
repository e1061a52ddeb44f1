package org.dirtylog.arch.ia64;

import java.util.Set;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.Defect;
import org.dirtylog.kvm.ReferenceBackend;

/** The reference backend {@code reference-ia64}: the generic core with {@link Ia64Hooks}. */
public final class Ia64ReferenceBackend extends ReferenceBackend {

    /** Creates the correct backend. */
    public Ia64ReferenceBackend() {
        this(Set.of());
    }

    /** Creates the backend with {@code defects} injected (named e.g. {@code reference-ia64+6dbf79e7}). */
    public Ia64ReferenceBackend(Set<Defect> defects) {
        super("reference-ia64", defects);
    }

    @Override
    public String description() {
        return "Reference IA64: VMM dirty log merged under dirty_log_lock, in-place swap, remote TLB flush";
    }

    @Override
    protected ArchHooks createHooks() {
        return new Ia64Hooks();
    }
}
