package org.dirtylog.arch.tests;

import java.util.Set;
import java.util.function.Function;
import org.dirtylog.arch.ia64.Ia64ReferenceBackend;
import org.dirtylog.arch.ppc.Book3sReferenceBackend;
import org.dirtylog.arch.x86.X86ReferenceBackend;
import org.dirtylog.kvm.Defect;
import org.dirtylog.kvm.ReferenceBackend;

/** The three reference architectures every test here runs on. */
enum Arch {
    X86("reference-x86", X86ReferenceBackend::new),
    PPC("reference-ppc", Book3sReferenceBackend::new),
    IA64("reference-ia64", Ia64ReferenceBackend::new);

    final String backendName;
    private final Function<Set<Defect>, ReferenceBackend> factory;

    Arch(String backendName, Function<Set<Defect>, ReferenceBackend> factory) {
        this.backendName = backendName;
        this.factory = factory;
    }

    ReferenceBackend backend() {
        return factory.apply(Set.of());
    }

    ReferenceBackend backend(Set<Defect> defects) {
        return factory.apply(defects);
    }
}
