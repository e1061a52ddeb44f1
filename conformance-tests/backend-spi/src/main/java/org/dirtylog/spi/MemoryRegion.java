package org.dirtylog.spi;

/**
 * {@code struct kvm_userspace_memory_region}: the argument of {@code KVM_SET_USER_MEMORY_REGION}.
 *
 * @param slot memslot id; bits 16-31 are the address-space id
 * @param flags {@link KvmApi#KVM_MEM_LOG_DIRTY_PAGES} and friends
 * @param guestPhysAddr first guest physical address of the slot, page aligned
 * @param memorySize size in bytes, page aligned; 0 deletes the slot
 * @param userspaceAddr user address of the backing memory, from {@link BackendVm#mmap(long)}
 */
@Api(Api.Status.STABLE)
public record MemoryRegion(int slot, int flags, long guestPhysAddr, long memorySize, long userspaceAddr) {

    /** Returns the number of guest pages in the region. */
    public long npages() {
        return KvmApi.pages(memorySize);
    }

    /** Returns the same region with other flags. */
    public MemoryRegion withFlags(int newFlags) {
        return new MemoryRegion(slot, newFlags, guestPhysAddr, memorySize, userspaceAddr);
    }

    /** Returns the same region at another guest physical address. */
    public MemoryRegion movedTo(long newGuestPhysAddr) {
        return new MemoryRegion(slot, flags, newGuestPhysAddr, memorySize, userspaceAddr);
    }

    /** Returns the deletion request for this slot (memory_size 0). */
    public MemoryRegion deletion() {
        return new MemoryRegion(slot, flags, guestPhysAddr, 0, userspaceAddr);
    }
}
