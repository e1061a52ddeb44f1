package org.dirtylog.independent;

import java.nio.ByteOrder;
import java.util.EnumSet;
import org.dirtylog.spi.Availability;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.DirtyLogBackend;
import org.dirtylog.spi.IoctlResult;

/**
 * {@code independent}: an in-memory emulator of KVM's dirty logging written only against the
 * SPI, with a design of its own: memslots changed in place while the vCPUs are held outside
 * guest mode, per-vCPU guest-mode counters instead of SRCU, per-vCPU shadow-PTE write
 * permissions and dirty logs (PML-like) drained lock-free, and the RFC's two bitmaps in user
 * memory swapped in place. See {@link DirtyLogPaths} for why it loses no write, and
 * {@link IndependentBackends} for its deliberately broken variants.
 */
public final class IndependentBackend implements DirtyLogBackend {

    /** Memslot ids 0..{@value} - 1, address space 0 only. */
    static final int MEMSLOTS = 32;
    /** vCPUs a VM may have. */
    static final int MAX_VCPUS = 4;
    /** The RFC generation implemented: {@code KVM_GET_USER_DIRTY_LOG_ADDR} and {@code KVM_SWITCH_DIRTY_LOG}. */
    static final int USER_DIRTY_LOG_GENERATION = 1;
    /** Guest physical addresses end here (a 46-bit guest physical address space). */
    static final long GPA_LIMIT = 1L << 46;
    /** The guest physical range the kit may use: 4 GiB to 64 GiB. */
    static final long GUEST_PHYS_BASE = 4L << 30;
    static final long GUEST_PHYS_LIMIT = 64L << 30;

    private static final Capabilities CAPABILITIES = new Capabilities(
            EnumSet.of(Capability.GET_DIRTY_LOG, Capability.USER_DIRTY_LOG, Capability.MEMSLOT_MOVE,
                    Capability.GUEST_WRITES, Capability.RANDOM_WRITES),
            USER_DIRTY_LOG_GENERATION, MAX_VCPUS, GUEST_PHYS_BASE, GUEST_PHYS_LIMIT);

    private final String name;
    private final String description;
    private final DirtyLogPaths paths;

    /** The correct backend, {@code independent}; the constructor {@link java.util.ServiceLoader} calls. */
    public IndependentBackend() {
        this(IndependentBackends.CORRECT, "Independently written emulator (per-vCPU guest-mode counters, "
                + "PML-like per-vCPU logs, in-place bitmap swap), written only against the SPI", new DirtyLogPaths());
    }

    IndependentBackend(String name, String description, DirtyLogPaths paths) {
        this.name = name;
        this.description = description;
        this.paths = paths;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return description;
    }

    /** Returns available, except on a big-endian host, where native bitmap words would not have the kernel's format. */
    @Override
    public Availability availability() {
        return ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? Availability.AVAILABLE
                : Availability.unavailable("needs a little-endian host: its bitmaps are native 64-bit words");
    }

    @Override
    public Capabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public IoctlResult<BackendVm> createVm() {
        return IoctlResult.ok(new IndependentVm(paths));
    }
}
