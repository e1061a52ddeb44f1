package org.dirtylog.kvm;

import java.util.EnumSet;
import java.util.function.Supplier;
import org.dirtylog.spi.Availability;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.DirtyLogBackend;
import org.dirtylog.spi.IoctlResult;

/**
 * A reference backend: the generic core with one architecture's {@link ArchHooks}, fresh for
 * every VM, and the core's {@link CoreSeams}. The built-in ones ({@code reference-x86},
 * {@code reference-ppc}, {@code reference-ia64}) are subclasses with the kernel's seams; test
 * fixtures compose others from the public constructor.
 */
public class ReferenceBackend implements DirtyLogBackend {

    private final String name;
    private final String description;
    private final Supplier<? extends ArchHooks> hooks;
    private final CoreSeams seams;
    /** Asked once of a fresh set of hooks: whether the architecture offers manual protect. */
    private final boolean genericDirtyLogReadProtect;

    /** Creates the backend {@code name} from the architecture's {@code hooks} and the kernel's seams. */
    protected ReferenceBackend(String name, String description, Supplier<? extends ArchHooks> hooks) {
        this(name, description, hooks, CoreSeams.KERNEL);
    }

    /**
     * Creates the backend {@code name} whose VMs are built from {@code hooks} (called once per
     * VM, so hooks may keep per-VM state) and {@code seams}.
     */
    public ReferenceBackend(String name, String description, Supplier<? extends ArchHooks> hooks, CoreSeams seams) {
        this.name = name;
        this.description = description;
        this.hooks = hooks;
        this.seams = seams;
        this.genericDirtyLogReadProtect = hooks.get().genericDirtyLogReadProtect();
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final String description() {
        return description;
    }

    @Override
    public final Availability availability() {
        return Availability.AVAILABLE;
    }

    /**
     * Returns what the backend offers, listed one by one: what every architecture of the
     * reference has, plus manual protect with INITIALLY_SET where the architecture has the
     * generic protect path ({@link ArchHooks#genericDirtyLogReadProtect}: x86, not PowerPC book3s
     * or IA64), and the dirty ring where it has one ({@link ArchHooks#dirtyRingMaxBytes()}: x86
     * too, as in the kernel). A capability the SPI gains later is declared only once the core
     * implements it, so its rules are NOT_APPLICABLE until then instead of failing.
     */
    @Override
    public final Capabilities capabilities() {
        EnumSet<Capability> features = EnumSet.of(Capability.GET_DIRTY_LOG, Capability.USER_DIRTY_LOG,
                Capability.MEMSLOT_MOVE, Capability.GUEST_WRITES, Capability.RANDOM_WRITES, Capability.SEQUENTIAL_WRITES);
        if (genericDirtyLogReadProtect) {
            features.add(Capability.MANUAL_DIRTY_LOG_PROTECT);
            features.add(Capability.DIRTY_LOG_INITIALLY_SET);
        }
        if (hooks.get().dirtyRingMaxBytes() > 0) {
            features.add(Capability.DIRTY_LOG_RING);
        }
        return new Capabilities(features, Vm.USER_DIRTY_LOG_GENERATION, Vm.MAX_VCPUS, 0, Vm.GUEST_PHYS_LIMIT);
    }

    @Override
    public final IoctlResult<BackendVm> createVm() {
        return IoctlResult.ok(createReferenceVm());
    }

    /** Returns a fresh VM with the default slot limit ({@code KVM_MEMORY_SLOTS} = 32). */
    public final Vm createReferenceVm() {
        return createReferenceVm(Vm.DEFAULT_MEMORY_SLOTS);
    }

    /**
     * Returns a fresh VM with {@code slotLimit} memslots.
     *
     * @throws IllegalArgumentException when the slot limit is outside {@code [1, 2^16]}
     */
    public final Vm createReferenceVm(int slotLimit) {
        return new Vm(hooks.get(), seams, slotLimit);
    }
}
