package org.dirtylog.spi;

import java.lang.foreign.MemorySegment;

/**
 * A virtual machine of a backend: the vm-ioctl surface of KVM's dirty-log API plus the small
 * part of the process the kit needs (mapping user memory, reading it back).
 *
 * <p>Every ioctl method returns the kernel's result as a value: a non-negative return or an
 * {@link Errno}, never an exception for bad input. A failed call leaves the VM exactly as it
 * was, with the one exception the kernel itself has: a {@link #getDirtyLog} that fails with
 * {@code -EFAULT} (the copy to user memory) may already have taken and cleared the slot's dirty
 * bits, as {@code kvm_get_dirty_log_protect} does in legacy mode, so those pages are then not
 * reported again; keeping them (checking the buffer first) is allowed too. Calls may come from
 * several threads; the kit harvests from one thread while vCPUs write from others.
 */
@Api(Api.Status.STABLE)
public interface BackendVm extends AutoCloseable {

    /**
     * {@code KVM_CHECK_EXTENSION}: returns the capability's value, 0 when it is absent.
     * The kit asks {@link KvmApi#KVM_CAP_USER_DIRTY_LOG}, {@link KvmApi#KVM_CAP_NR_MEMSLOTS} and
     * {@link KvmApi#KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2} (the mask of manual-protect flags);
     * with {@link Capability#DIRTY_LOG_RING} also {@link KvmApi#KVM_CAP_DIRTY_LOG_RING} and
     * {@link KvmApi#KVM_CAP_DIRTY_LOG_RING_ACQ_REL} (the largest ring in bytes, 0 when not offered).
     */
    IoctlResult<Integer> checkExtension(long capability);

    /**
     * Maps {@code length} bytes (a multiple of the page size) of zeroed user memory and returns it.
     * Only memory mapped here (or, for a real kernel, any mapped memory of the process) is a
     * valid user pointer in ioctl arguments. Errors: {@code -EINVAL} for a bad length,
     * {@code -ENOMEM}.
     */
    IoctlResult<UserMemory> mmap(long length);

    /**
     * Unmaps memory returned by {@link #mmap(long)}. Errors: {@code -EINVAL} if it is not mapped,
     * {@code -EBUSY} if a backend refuses while a memslot still uses the range (a real-kernel
     * backend must, or guest stores could land in memory the process reused).
     */
    IoctlResult<Integer> munmap(UserMemory memory);

    /**
     * Returns the host's view of {@code length} bytes of user memory at {@code address}, the way
     * {@code copy_from_user} would see them. Errors: {@code -EFAULT} when any byte of the range
     * is not mapped user memory. The kit reads the bitmaps of {@code KVM_GET_USER_DIRTY_LOG_ADDR}
     * through this, so a wrong address is an error value, not a crash.
     */
    IoctlResult<MemorySegment> accessUser(long address, long length);

    /**
     * {@code KVM_SET_USER_MEMORY_REGION}: creates, moves, re-flags or (size 0) deletes a memslot.
     * Errors in check order: {@code -EINVAL} (slot out of range, unknown flag, unaligned size,
     * gpa or user address, size or user address change of an existing slot, deleting a slot that
     * does not exist, a user range that is not mapped memory), {@code -EEXIST} (overlap with
     * another slot), {@code -ENOMEM}.
     */
    IoctlResult<Integer> setUserMemoryRegion(MemoryRegion region);

    /**
     * {@code KVM_GET_DIRTY_LOG}: copies the slot's dirty bitmap to user memory at
     * {@code dirtyBitmap} ({@code ALIGN(npages, 64) / 8} bytes, all of them written) and clears
     * the pages it reports, so the next call reports only later writes. Returns 0.
     * Errors in check order: {@code -EINVAL} (slot id out of range), {@code -ENOENT} (no such
     * slot, or logging off), {@code -EFAULT} (the buffer is not writable user memory). After
     * {@code -EFAULT} the pages dirty before the call may be lost to the caller (the kernel
     * clears them before the copy fails) or kept for the next call; every later write is
     * reported as usual (rule GET-06).
     *
     * <p>With manual protect on ({@link #enableManualDirtyLogProtect}) the call only copies: it
     * neither clears the bitmap nor re-arms tracking, pages stay reported until
     * {@link #clearDirtyLog} clears them, and an {@code -EFAULT} loses nothing
     * ({@code kvm_get_dirty_log_protect} with {@code manual_dirty_log_protect} set).
     */
    IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap);

    /**
     * {@code KVM_GET_USER_DIRTY_LOG_ADDR} (RFC 4.39): reads {@code struct kvm_user_dirty_log}
     * at user address {@code argp} (see {@link UserDirtyLog}), fills in the two bitmap
     * addresses of its slot and writes it back. Returns 0.
     * Errors: {@code -EFAULT} (argp not mapped), {@code -EINVAL} (slot out of range),
     * {@code -ENOENT} (slot without dirty logging). Requires {@link Capability#USER_DIRTY_LOG};
     * a backend without it returns {@code -ENOTTY}.
     */
    IoctlResult<Integer> getUserDirtyLogAddr(long argp);

    /**
     * {@code KVM_SWITCH_DIRTY_LOG} (RFC 4.40): if the slot was written since the last switch,
     * clears the cold bitmap, makes it the active one and returns 0; the previously active bitmap
     * then holds the pages dirtied since the last switch. Returns 1 when the slot was clean (no
     * switch). Errors: {@code -EINVAL} (slot out of range), {@code -ENOENT} (slot without dirty
     * logging). Requires {@link Capability#USER_DIRTY_LOG}; without it, {@code -ENOTTY}.
     * As the RFC says, {@code KVM_GET_DIRTY_LOG} may also switch the bitmaps: the kit never
     * mixes the two harvest styles on one slot, and a caller should not either.
     */
    IoctlResult<Integer> switchDirtyLog(int slot);

    /**
     * {@code KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)} on the VM
     * ({@code kvm_vm_ioctl_enable_cap_generic}): sets the VM's manual-protect mode to
     * {@code args0} and returns 0. {@code args0} is 0 (manual protect off: GET clears, as before),
     * {@link KvmApi#KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE}, or ENABLE together with other bits of
     * the mask {@code KVM_CHECK_EXTENSION(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)} reports
     * ({@link KvmApi#KVM_DIRTY_LOG_INITIALLY_SET}); the mode may change at any time, and
     * INITIALLY_SET affects only bitmaps allocated afterwards.
     * Errors (one check): {@code -EINVAL} when {@code flags != 0}, when {@code args0} has a bit
     * outside the reported mask, or when it has any bit but ENABLE without ENABLE (INITIALLY_SET
     * alone); the mode is then unchanged. (The TLA+ model fixes the mode per configuration:
     * {@code HarvestKinds = {"getclear"}}.)
     *
     * <p>Requires {@link Capability#MANUAL_DIRTY_LOG_PROTECT}. The default answers as a kernel
     * without the capability does, {@code -EINVAL}: {@code KVM_ENABLE_CAP} then reaches the
     * architecture's {@code kvm_vm_ioctl_enable_cap}, whose answer to a capability it does not
     * know is {@code -EINVAL}.
     */
    default IoctlResult<Integer> enableManualDirtyLogProtect(int flags, long args0) {
        return IoctlResult.err(Errno.EINVAL);
    }

    /**
     * {@code KVM_CLEAR_DIRTY_LOG} ({@code kvm_clear_dirty_log_protect}): reads exactly
     * {@link ClearDirtyLog#bitmapBytes()} bytes ({@code ALIGN(num_pages, 64) / 8}, none for
     * {@code num_pages == 0}) of the user bitmap at {@code log.dirtyBitmap()}; for every set bit
     * {@code i} whose page {@code first_page + i} is dirty in the slot's bitmap it clears that
     * bit, then re-arms tracking of the page, all before returning, so the next write to the page
     * is reported again. Bits for clean pages, or for pages past the slot's end (a final partial
     * word), are ignored. Returns 0. Works whether manual protect is on or off.
     * Errors in check order: {@code -EINVAL} (address space or slot id out of range),
     * {@code -EINVAL} ({@code first_page} not a multiple of 64), {@code -ENOENT} (no such slot, or
     * logging off), {@code -EINVAL} ({@link ClearDirtyLog#rangeInvalidFor(long)}: the range
     * passes the slot's end, or {@code num_pages} is not a multiple of 64 and the range ends
     * before the slot's end), {@code -EFAULT} (a byte of the user bitmap is not readable user
     * memory). A failed call changes nothing.
     * TLA+: ClearBegin, ClearBits (the bits first), ReArmPage (then each page's protection),
     * HarvestEnd.
     *
     * <p>Requires {@link Capability#MANUAL_DIRTY_LOG_PROTECT}. The default answers as a kernel
     * without the ioctl does, {@code -ENOTTY}: the request then falls through to
     * {@code kvm_arch_vm_ioctl}, whose answer to a request it does not know is {@code -ENOTTY}.
     */
    default IoctlResult<Integer> clearDirtyLog(ClearDirtyLog log) {
        return IoctlResult.err(Errno.ENOTTY);
    }

    /** {@code KVM_CREATE_VCPU}: creates vCPU {@code id}. Errors: {@code -EINVAL}, {@code -EEXIST}. */
    IoctlResult<BackendVcpu> createVcpu(int id);

    /**
     * {@code KVM_ENABLE_CAP(KVM_CAP_DIRTY_LOG_RING or KVM_CAP_DIRTY_LOG_RING_ACQ_REL)} on the VM
     * ({@code kvm_vm_ioctl_enable_dirty_log_ring}): gives every vCPU created from now on a dirty
     * ring of {@code args0} bytes, read as the kernel's {@code u32} ({@code args0 / 16} entries of
     * {@link DirtyGfn}), and returns 0. From then on logged memslots get no dirty bitmap and
     * {@link #getDirtyLog} answers {@code -ENXIO} before any other check. {@code flags} is ignored,
     * as by the kernel. Errors in the kernel's check order: {@code -EINVAL} ({@code capability}
     * is not one {@link #checkExtension} reports non-zero, 7a2726ec), {@code -EINVAL} (size 0 or
     * not a power of two), {@code -EINVAL} (smaller than the page size or than the reserved
     * entries, {@code (64 + log-buffer size) x 16}), {@code -E2BIG} (larger than
     * {@code KVM_CHECK_EXTENSION} reports), {@code -EINVAL} (a ring is already enabled, by either
     * capability), {@code -EINVAL} (a vCPU has been created). A failed call changes nothing.
     * TLA+ (spec/models/ring): the ring of RingSize entries the model starts with.
     *
     * <p>Requires {@link Capability#DIRTY_LOG_RING}. The default answers as a kernel whose
     * architecture has no ring does: {@code KVM_CHECK_EXTENSION} of both capabilities is 0 there,
     * so {@code kvm_vm_ioctl_enable_cap_generic} returns {@code -EINVAL}.
     */
    default IoctlResult<Integer> enableDirtyLogRing(int capability, int flags, long args0) {
        return IoctlResult.err(Errno.EINVAL);
    }

    /**
     * {@code KVM_RESET_DIRTY_RINGS} ({@code kvm_vm_ioctl_reset_dirty_pages}): for every vCPU in
     * order, walks its ring from the kernel's reset index while entries carry
     * {@link DirtyGfn#KVM_DIRTY_GFN_F_RESET}; zeroes each such entry (store-release), re-arms
     * tracking of its page so that the next store to it is pushed again, and stops at the first
     * entry without RESET (an entry not yet harvested, or a free one): only the contiguous
     * harvested prefix is reset. Flushes remote TLBs if anything was reset, then returns the
     * number of entries reset over all vCPUs. The caller must read the harvested pages only after
     * this returns (api.rst 8.29). Errors: {@code -EINVAL} when no ring is enabled.
     * TLA+: ResetEntry (each entry), ResetEnd (the return).
     *
     * <p>Requires {@link Capability#DIRTY_LOG_RING}. The default answers as a kernel without a
     * ring does, {@code -EINVAL} (the ioctl exists in every kernel since 5.11 and checks
     * {@code kvm->dirty_ring_size} first).
     */
    default IoctlResult<Integer> resetDirtyRings() {
        return IoctlResult.err(Errno.EINVAL);
    }

    /** Destroys the VM, its vCPUs and every resource it holds. Idempotent; never throws. */
    @Override
    void close();
}
