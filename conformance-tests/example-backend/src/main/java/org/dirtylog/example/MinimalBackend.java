package org.dirtylog.example;

import java.util.EnumSet;
import org.dirtylog.spi.Availability;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.DirtyLogBackend;
import org.dirtylog.spi.IoctlResult;

/**
 * {@code example-minimal}: the smallest correct backend, written only against the SPI. An
 * in-memory emulator with {@code KVM_GET_DIRTY_LOG} and no RFC ioctls, so the suite certifies
 * it with the RFC rules NOT_APPLICABLE. It is the code {@code docs/writing-a-backend.md} walks
 * through; it is registered in {@code META-INF/services/org.dirtylog.spi.DirtyLogBackend}.
 *
 * <p>Its design choice is the simplest one that cannot lose a write: one lock per VM taken by
 * every guest write (store and dirty bit together) and by every harvest (copy and clear
 * together), so a harvest sees each write either entirely before or entirely after it.
 */
public final class MinimalBackend implements DirtyLogBackend {

    /** Memslot ids 0..{@value} - 1. */
    static final int MEMSLOTS = 32;
    /** vCPUs a VM may have. */
    static final int MAX_VCPUS = 4;
    /** The guest physical range the kit may use: 1 GiB to 4 GiB. */
    static final long GUEST_PHYS_BASE = 1L << 30;
    static final long GUEST_PHYS_LIMIT = 4L << 30;

    private static final Capabilities CAPABILITIES = new Capabilities(
            EnumSet.of(Capability.GET_DIRTY_LOG, Capability.GUEST_WRITES, Capability.RANDOM_WRITES, Capability.MEMSLOT_MOVE),
            0, MAX_VCPUS, GUEST_PHYS_BASE, GUEST_PHYS_LIMIT);

    /** The no-argument constructor {@link java.util.ServiceLoader} calls; touches nothing. */
    public MinimalBackend() {
    }

    @Override
    public String name() {
        return "example-minimal";
    }

    @Override
    public String description() {
        return "Example in-memory emulator written only against the SPI (KVM_GET_DIRTY_LOG, no RFC ioctls)";
    }

    @Override
    public Availability availability() {
        return Availability.AVAILABLE;
    }

    @Override
    public Capabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public IoctlResult<BackendVm> createVm() {
        return IoctlResult.ok(new MinimalVm());
    }
}
