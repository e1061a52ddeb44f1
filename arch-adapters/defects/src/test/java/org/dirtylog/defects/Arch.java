package org.dirtylog.defects;

import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.dirtylog.arch.ia64.Ia64Hooks;
import org.dirtylog.arch.ia64.Ia64ReferenceBackend;
import org.dirtylog.arch.ppc.Book3sHooks;
import org.dirtylog.arch.ppc.Book3sReferenceBackend;
import org.dirtylog.arch.x86.X86Hooks;
import org.dirtylog.arch.x86.X86ReferenceBackend;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.CoreSeams;
import org.dirtylog.kvm.ReferenceBackend;

/** The three reference architectures: their correct backends, and their parts for composing broken ones. */
public enum Arch {
    X86(X86Hooks::new, X86ReferenceBackend::new),
    PPC(Book3sHooks::new, Book3sReferenceBackend::new),
    IA64(Ia64Hooks::new, Ia64ReferenceBackend::new);

    private final Supplier<ArchHooks> hooks;
    private final Supplier<ReferenceBackend> correct;

    Arch(Supplier<ArchHooks> hooks, Supplier<ReferenceBackend> correct) {
        this.hooks = hooks;
        this.correct = correct;
    }

    /** Returns the correct backend, the one {@code ServiceLoader} finds. */
    public ReferenceBackend backend() {
        return correct.get();
    }

    /** Returns the correct backend's name, e.g. {@code reference-x86}. */
    public String backendName() {
        return backend().name();
    }

    /**
     * Returns a backend named {@code name} whose VMs use this architecture's hooks wrapped by
     * {@code decorate} (fresh for each VM) and {@code seams}.
     */
    ReferenceBackend compose(String name, String description, UnaryOperator<ArchHooks> decorate, CoreSeams seams) {
        return new ComposedReferenceBackend(name, description, () -> decorate.apply(hooks.get()), seams);
    }
}
