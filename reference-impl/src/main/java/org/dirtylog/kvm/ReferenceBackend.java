package org.dirtylog.kvm;

import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;
import org.dirtylog.spi.Availability;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.DirtyLogBackend;
import org.dirtylog.spi.IoctlResult;

/**
 * The reference backend of one architecture: the generic core with that architecture's
 * {@link ArchHooks}, optionally built with {@link Defect}s for the kit's self-tests (its name
 * then carries their labels, e.g. {@code reference-x86+edde99ce}).
 */
public abstract class ReferenceBackend implements DirtyLogBackend {

    private final String baseName;
    private final Set<Defect> defects;

    /**
     * Creates the backend {@code baseName} with {@code defects} injected.
     *
     * @throws IllegalArgumentException when a defect does not apply to the architecture
     */
    protected ReferenceBackend(String baseName, Set<Defect> defects) {
        this.baseName = baseName;
        this.defects = defects.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(defects));
        Vm.requireApplicable(createHooks(), defects);
    }

    /** Returns fresh hooks for one VM. */
    protected abstract ArchHooks createHooks();

    /** Returns the defects this backend's architecture can be built with. */
    public final Set<Defect> applicableDefects() {
        return createHooks().applicableDefects();
    }

    /** Returns the injected defects. */
    public final Set<Defect> defects() {
        return defects;
    }

    @Override
    public final String name() {
        if (defects.isEmpty()) {
            return baseName;
        }
        return baseName + EnumSet.copyOf(defects).stream().map(d -> "+" + d.label()).collect(Collectors.joining());
    }

    @Override
    public final Availability availability() {
        return Availability.AVAILABLE;
    }

    /** Returns every capability but the dirty ring's, which the core does not implement. */
    @Override
    public final Capabilities capabilities() {
        return new Capabilities(EnumSet.complementOf(EnumSet.of(Capability.DIRTY_LOG_RING, Capability.SEQUENTIAL_WRITES)),
                Vm.USER_DIRTY_LOG_GENERATION, Vm.MAX_VCPUS, 0, Vm.GUEST_PHYS_LIMIT);
    }

    @Override
    public final IoctlResult<BackendVm> createVm() {
        return IoctlResult.ok(createReferenceVm());
    }

    /** Returns a fresh VM with the default slot limit. */
    public final Vm createReferenceVm() {
        return createReferenceVm(Vm.DEFAULT_MEMORY_SLOTS);
    }

    /** Returns a fresh VM with {@code slotLimit} memslots. */
    public final Vm createReferenceVm(int slotLimit) {
        return new Vm(createHooks(), defects, slotLimit);
    }
}
