package org.dirtylog.kvm;

/**
 * Allocates a vCPU's dirty ring when the vCPU is created with the ring enabled
 * ({@code kvm_dirty_ring_alloc}). The core uses {@link #KERNEL}; a test fixture may compose
 * another, for instance one whose rings publish entries differently.
 */
@FunctionalInterface
public interface RingAllocator {

    /** Zeroed rings with the kernel's entries ({@link DirtyRing#KERNEL_ENTRIES}) and soft limit. */
    RingAllocator KERNEL = (size, softLimit) -> DirtyRing.allocate(size, softLimit, DirtyRing.KERNEL_ENTRIES);

    /**
     * Returns a zeroed ring of {@code size} entries, soft-full from {@code softLimit} used entries
     * ({@code size - KVM_DIRTY_RING_RSVD_ENTRIES - cpu log size}). Throws {@link OutOfMemoryError}
     * when native memory is exhausted (the caller answers -ENOMEM).
     */
    DirtyRing allocate(long size, long softLimit);
}
