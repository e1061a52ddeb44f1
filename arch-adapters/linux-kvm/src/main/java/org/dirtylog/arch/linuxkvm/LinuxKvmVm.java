package org.dirtylog.arch.linuxkvm;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.ClearDirtyLog;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserMemory;

/**
 * A VM of the host kernel: its own {@code /dev/kvm} fd and VM fd, the backend memslot with the
 * guest program (at the highest slot id), the kit's mappings and the vCPUs. Everything is
 * released by {@link #close()}.
 */
final class LinuxKvmVm implements BackendVm {

    private static final int SLOT_ID_MASK = (1 << KvmApi.ADDRESS_SPACE_SHIFT) - 1;

    private final Kvm kvm;
    private final VmFd vm;
    private final long kvmRunSize;
    private final int backendSlot;
    private final UserMapping privateMemory;
    // A PROT_NONE page: the bitmap address KVM_GET_DIRTY_LOG gets instead of one outside this VM's
    // mappings, so copy_to_user faults (-EFAULT) instead of writing into the JVM's memory.
    private final long guardPage;
    private final ConcurrentSkipListMap<Long, UserMapping> mappings = new ConcurrentSkipListMap<>();
    // Slot changes and munmap take the write lock so that no munmap can run between the check that
    // no memslot covers a range and the unmapping, nor a memslot appear over a range being unmapped.
    private final ReentrantReadWriteLock memoryLock = new ReentrantReadWriteLock();
    // Slot (address space << 16 | id) -> {userspace_addr, memory_size} of every memslot created
    // through this VM and not yet deleted. Guarded by memoryLock.
    private final Map<Integer, long[]> memslots = new HashMap<>();
    // Guarded by this.
    private final List<LinuxKvmVcpu> vcpus = new ArrayList<>();
    // Guarded by this.
    private boolean closed;
    // Guarded by this: the dirty ring size the kernel accepted (bytes, the u32 it read), 0 without a ring.
    private long ringBytes;

    private LinuxKvmVm(Kvm kvm, VmFd vm, long kvmRunSize, int backendSlot, UserMapping privateMemory,
                       long guardPage) {
        this.kvm = kvm;
        this.vm = vm;
        this.kvmRunSize = kvmRunSize;
        this.backendSlot = backendSlot;
        this.privateMemory = privateMemory;
        this.guardPage = guardPage;
    }

    /**
     * {@code KVM_CREATE_VM} on {@code device} plus the backend memslot and the guard page: returns a VM
     * with no kit memslots and no vCPUs. Errors: those of opening {@code /dev/kvm}, {@code KVM_CREATE_VM},
     * {@code mmap}, {@code KVM_SET_USER_MEMORY_REGION}.
     */
    static IoctlResult<BackendVm> create(String device) {
        IoctlResult<Kvm> opened = Kvm.open(device);
        if (!(opened instanceof IoctlResult.Ok<Kvm> okKvm)) {
            return IoctlResult.err(opened.errnoOrNull());
        }
        Kvm kvm = okKvm.value();
        IoctlResult<Integer> runSize = kvm.vcpuMmapSize();
        IoctlResult<Integer> slots = kvm.checkExtension(KvmApi.KVM_CAP_NR_MEMSLOTS);
        IoctlResult<VmFd> created = kvm.createVm();
        Errno failure = firstError(runSize, slots, created);
        if (failure == null && slots.value() < 2) {
            failure = Errno.ENOSPC;
        }
        if (failure != null) {
            if (created.isOk()) {
                created.value().close();
            }
            kvm.close();
            return IoctlResult.err(failure);
        }
        VmFd vm = created.value();
        IoctlResult<UserMapping> mapped = UserMapping.map(GuestProgram.PRIVATE_SIZE);
        if (!(mapped instanceof IoctlResult.Ok<UserMapping> okMapped)) {
            vm.close();
            kvm.close();
            return IoctlResult.err(mapped.errnoOrNull());
        }
        UserMapping memory = okMapped.value();
        GuestProgram.install(memory.segment());
        int backendSlot = slots.value() - 1;
        IoctlResult<Integer> slot = vm.setUserMemoryRegion(backendSlot, 0, 0, GuestProgram.PRIVATE_SIZE,
                memory.address());
        if (!slot.isOk()) {
            vm.close();
            kvm.close();
            memory.unmap();
            return IoctlResult.err(slot.errnoOrNull());
        }
        long guard = Syscalls.mmap(KvmApi.PAGE_SIZE, Syscalls.PROT_NONE,
                Syscalls.MAP_PRIVATE | Syscalls.MAP_ANONYMOUS | Syscalls.MAP_NORESERVE, -1);
        if (guard < 0) {
            vm.close();
            kvm.close();
            memory.unmap();
            return IoctlResult.err(Errno.fromKernelReturn(guard));
        }
        return IoctlResult.ok(new LinuxKvmVm(kvm, vm, runSize.value(), backendSlot, memory, guard));
    }

    private static Errno firstError(IoctlResult<?>... results) {
        for (IoctlResult<?> r : results) {
            if (!r.isOk()) {
                return r.errnoOrNull();
            }
        }
        return null;
    }

    /**
     * {@code KVM_CHECK_EXTENSION} on the VM fd, with two answers changed: {@code KVM_CAP_NR_MEMSLOTS}
     * is one less (the backend keeps the highest slot), and {@link KvmApi#KVM_CAP_USER_DIRTY_LOG}
     * is 0: mainline never merged the RFC and gave number 55 to {@code KVM_CAP_XSAVE}, so the
     * kernel's own answer (1 here) would wrongly claim RFC generation 1.
     */
    @Override
    public IoctlResult<Integer> checkExtension(long capability) {
        if (capability == KvmApi.KVM_CAP_USER_DIRTY_LOG) {
            return IoctlResult.ok(0);
        }
        if (capability == KvmApi.KVM_CAP_NR_MEMSLOTS) {
            return IoctlResult.ok(backendSlot);
        }
        return vm.checkExtension(capability);
    }

    /** Returns fresh anonymous memory (see {@link UserMapping#map}). Errors: {@code -EINVAL}, {@code -ENOMEM}, {@code -EBADF}. */
    @Override
    public IoctlResult<UserMemory> mmap(long length) {
        if (length <= 0 || (length & (KvmApi.PAGE_SIZE - 1)) != 0) {
            return IoctlResult.err(Errno.EINVAL);
        }
        synchronized (this) {
            if (closed) {
                return IoctlResult.err(Errno.EBADF);
            }
            IoctlResult<UserMapping> mapped = UserMapping.map(length);
            if (mapped instanceof IoctlResult.Ok<UserMapping> ok) {
                mappings.put(ok.value().address(), ok.value());
            }
            return mapped.map(m -> new UserMemory(m.address(), m.segment()));
        }
    }

    /**
     * Unmaps memory from {@link #mmap(long)}; its segments become inaccessible. Errors:
     * {@code -EINVAL} (not a mapping of this VM, or a different length), {@code -EBUSY} while a
     * memslot created through this VM still covers any byte of it: the kernel would keep
     * translating guest stores and {@code KVM_GET_DIRTY_LOG}'s copy into a range the JVM may
     * reuse. Delete the memslot (size 0) first. The kernel itself allows the munmap.
     */
    @Override
    public IoctlResult<Integer> munmap(UserMemory memory) {
        memoryLock.writeLock().lock();
        try {
            UserMapping m = mappings.get(memory.address());
            if (m == null || m.length() != memory.length()) {
                return IoctlResult.err(Errno.EINVAL);
            }
            for (long[] slot : memslots.values()) {
                if (slot[0] < m.address() + m.length() && m.address() < slot[0] + slot[1]) {
                    return IoctlResult.err(Errno.EBUSY);
                }
            }
            mappings.remove(memory.address());
            m.unmap();
            return IoctlResult.ok(0);
        } finally {
            memoryLock.writeLock().unlock();
        }
    }

    /**
     * Returns the bytes at {@code [address, address + length)} when they lie inside one mapping
     * this VM made; a range crossing mappings or outside them is {@code -EFAULT}, so a wrong
     * address never reaches a real load.
     */
    @Override
    public IoctlResult<MemorySegment> accessUser(long address, long length) {
        if (length < 0) {
            return IoctlResult.err(Errno.EFAULT);
        }
        Map.Entry<Long, UserMapping> below = mappings.floorEntry(address);
        if (below == null || !below.getValue().contains(address, length)) {
            return IoctlResult.err(Errno.EFAULT);
        }
        UserMapping m = below.getValue();
        return IoctlResult.ok(m.segment().asSlice(address - m.address(), length));
    }

    /**
     * {@code KVM_SET_USER_MEMORY_REGION} ({@code kvm_set_memory_region}); the kernel checks, in
     * order: {@code -EINVAL} (slot id, flags, alignment, size or address change), {@code -EEXIST}
     * (overlap), {@code -ENOMEM}. Slot ids at or above the backend's own slot are {@code -EINVAL},
     * as if out of range, matching {@link #checkExtension(long)}. Records the slot's user range
     * for {@link #munmap(UserMemory)}. TLA+: LogOn / LogOff.
     */
    @Override
    public IoctlResult<Integer> setUserMemoryRegion(MemoryRegion region) {
        if (reserved(region.slot())) {
            return IoctlResult.err(Errno.EINVAL);
        }
        memoryLock.writeLock().lock();
        try {
            IoctlResult<Integer> r = vm.setUserMemoryRegion(region.slot(), region.flags(), region.guestPhysAddr(),
                    region.memorySize(), region.userspaceAddr());
            if (r.isOk()) {
                // The kernel refuses to change an existing slot's address or size, so a success
                // either deletes the slot or leaves it at exactly this range.
                if (region.memorySize() == 0) {
                    memslots.remove(region.slot());
                } else {
                    memslots.put(region.slot(), new long[] {region.userspaceAddr(), region.memorySize()});
                }
            }
            return r;
        } finally {
            memoryLock.writeLock().unlock();
        }
    }

    /**
     * {@code KVM_GET_DIRTY_LOG} ({@code kvm_vm_ioctl_get_dirty_log}, legacy mode: the kernel takes
     * the bits, write-protects the pages and copies the bitmap out). Errors in check order:
     * {@code -ENXIO} (a dirty ring is enabled), {@code -EINVAL}, {@code -ENOENT}, {@code -EFAULT}.
     * The backend's own slot answers {@code -EINVAL} without asking the kernel, as if out of
     * range; with a ring on the kernel would say {@code -ENXIO}, so the backend does too. TLA+: HarvestBegin, WriteProtect,
     * CopyToUser, HarvestEnd. A bitmap whose {@code ALIGN(npages, 64) / 8} bytes do not lie inside
     * one mapping of this VM is replaced by the VM's {@code PROT_NONE} guard page, so the kernel
     * still checks slot and log first but its {@code copy_to_user} fails with {@code -EFAULT}
     * instead of writing into JVM memory; the kernel itself writes to any writable process address.
     */
    @Override
    public IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap) {
        if (reserved(slot)) {
            return reservedSlot();
        }
        // The read lock keeps the slot's size and the buffer's mapping as checked until the ioctl
        // returns: a concurrent munmap or slot re-creation would otherwise let the copy land in
        // memory the JVM reused. Harvests still run concurrently with each other.
        memoryLock.readLock().lock();
        try {
            return vm.getDirtyLog(slot, ownBitmapOrGuard(slot, dirtyBitmap));
        } finally {
            memoryLock.readLock().unlock();
        }
    }

    // Caller holds memoryLock (read or write).
    private long ownBitmapOrGuard(int slot, long dirtyBitmap) {
        long[] memslot = memslots.get(slot);
        if (memslot == null) {
            // No slot of ours: the kernel answers -EINVAL or -ENOENT before it copies anything.
            return guardPage;
        }
        return ownOrGuard(dirtyBitmap, KvmApi.dirtyBitmapBytes(memslot[1] / KvmApi.PAGE_SIZE));
    }

    // Caller holds memoryLock (read or write).
    private long ownOrGuard(long address, long bytes) {
        Map.Entry<Long, UserMapping> below = mappings.floorEntry(address);
        return below != null && below.getValue().contains(address, bytes) ? address : guardPage;
    }

    /**
     * {@code KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)} ({@code kvm_vm_ioctl_enable_cap_generic}):
     * the kernel's own answer. Errors: {@code -EINVAL} (flags, or a bit outside the mask
     * {@link #checkExtension(long)} reports, or INITIALLY_SET without ENABLE).
     */
    @Override
    public IoctlResult<Integer> enableManualDirtyLogProtect(int flags, long args0) {
        return vm.enableCap(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, flags, args0);
    }

    /**
     * {@code KVM_CLEAR_DIRTY_LOG} ({@code kvm_clear_dirty_log_protect}); errors in the kernel's
     * check order: {@code -EINVAL} (slot id, including the backend's own slot), {@code -EINVAL}
     * (first_page & 63), {@code -ENOENT}, {@code -EINVAL} (range), {@code -EFAULT}. A user bitmap
     * whose {@code ALIGN(num_pages, 64) / 8} bytes do not lie inside one mapping of this VM is
     * replaced by the {@code PROT_NONE} guard page: the kernel still checks everything else first,
     * then its {@code copy_from_user} fails with {@code -EFAULT} instead of reading JVM memory as
     * a mask and clearing real dirty bits with it. TLA+: ClearBegin, ClearBits, ReArmPage,
     * HarvestEnd.
     */
    @Override
    public IoctlResult<Integer> clearDirtyLog(ClearDirtyLog log) {
        if (reserved(log.slot())) {
            return reservedSlot();
        }
        // As for GET: no munmap of the bitmap's mapping while the kernel may read it.
        memoryLock.readLock().lock();
        try {
            return vm.clearDirtyLog(log.slot(), log.numPages(), log.firstPage(),
                    ownOrGuard(log.dirtyBitmap(), log.bitmapBytes()));
        } finally {
            memoryLock.readLock().unlock();
        }
    }

    private synchronized boolean ringEnabled() {
        return ringBytes != 0;
    }

    /**
     * The answer of GET and CLEAR for the slot the backend keeps for its guest code: what the
     * kernel answers for a slot id past the user's range, -EINVAL, or -ENXIO in ring mode (the
     * kernel checks {@code kvm_use_dirty_bitmap} first).
     */
    private IoctlResult<Integer> reservedSlot() {
        return IoctlResult.err(ringEnabled() ? Errno.ENXIO : Errno.EINVAL);
    }

    private boolean reserved(int slot) {
        return (slot >>> KvmApi.ADDRESS_SPACE_SHIFT) == 0 && (slot & SLOT_ID_MASK) == backendSlot;
    }

    /** Returns {@code -ENOTTY}: mainline has no {@code KVM_GET_USER_DIRTY_LOG_ADDR}, the kernel's answer to an unknown ioctl. */
    @Override
    public IoctlResult<Integer> getUserDirtyLogAddr(long argp) {
        return IoctlResult.err(Errno.ENOTTY);
    }

    /** Returns {@code -ENOTTY}: mainline has no {@code KVM_SWITCH_DIRTY_LOG}. */
    @Override
    public IoctlResult<Integer> switchDirtyLog(int slot) {
        return IoctlResult.err(Errno.ENOTTY);
    }

    /**
     * {@code KVM_CREATE_VCPU}: returns vCPU {@code id} in long mode. Errors: {@code -EINVAL}
     * (id outside {@code [0, MAX_VCPUS)}, the shared areas of the backend memslot), {@code -EEXIST},
     * {@code -EBADF} (closed), those of the kernel.
     */
    @Override
    public synchronized IoctlResult<BackendVcpu> createVcpu(int id) {
        if (closed) {
            return IoctlResult.err(Errno.EBADF);
        }
        if (id < 0 || id >= GuestProgram.MAX_VCPUS) {
            return IoctlResult.err(Errno.EINVAL);
        }
        IoctlResult<LinuxKvmVcpu> created = LinuxKvmVcpu.create(vm, id, kvmRunSize, privateMemory.segment(), ringBytes);
        if (created instanceof IoctlResult.Ok<LinuxKvmVcpu> ok) {
            vcpus.add(ok.value());
        }
        return created.map(v -> v);
    }

    /**
     * {@code KVM_ENABLE_CAP(KVM_CAP_DIRTY_LOG_RING / _ACQ_REL)} ({@code kvm_vm_ioctl_enable_dirty_log_ring}):
     * the kernel's own answer, errors in its order ({@code -EINVAL} unadvertised capability,
     * size 0 or not a power of two, too small; {@code -E2BIG} too large; {@code -EINVAL} already
     * enabled, a vCPU exists). On success the backend remembers the size the kernel took (the
     * low 32 bits of {@code args0}), so vCPUs created afterwards can map their rings.
     */
    @Override
    public synchronized IoctlResult<Integer> enableDirtyLogRing(int capability, int flags, long args0) {
        if (closed) {
            return IoctlResult.err(Errno.EBADF);
        }
        IoctlResult<Integer> r = vm.enableCap(capability, flags, args0);
        if (r.isOk()) {
            ringBytes = args0 & 0xffff_ffffL;
        }
        return r;
    }

    /**
     * {@code KVM_RESET_DIRTY_RINGS} ({@code kvm_vm_ioctl_reset_dirty_pages}): the kernel's answer,
     * the number of entries reset. Errors: {@code -EINVAL} without a ring. TLA+: ResetEntry, ResetEnd.
     */
    @Override
    public IoctlResult<Integer> resetDirtyRings() {
        return vm.resetDirtyRings();
    }

    /**
     * Kicks and joins every vCPU thread, closes the vCPU, VM and {@code /dev/kvm} fds, then unmaps
     * the kit's memory, the backend memslot and the guard page (after the fds, so neither a vCPU
     * nor a harvest can still touch them).
     */
    @Override
    public void close() {
        List<LinuxKvmVcpu> toClose;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toClose = List.copyOf(vcpus);
            vcpus.clear();
        }
        for (LinuxKvmVcpu v : toClose) {
            v.close();
        }
        vm.close();
        kvm.close();
        memoryLock.writeLock().lock();
        try {
            for (UserMapping m : mappings.values()) {
                m.unmap();
            }
            mappings.clear();
            memslots.clear();
        } finally {
            memoryLock.writeLock().unlock();
        }
        privateMemory.unmap();
        Syscalls.munmap(guardPage, KvmApi.PAGE_SIZE);
    }
}
