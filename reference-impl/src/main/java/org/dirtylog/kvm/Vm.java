package org.dirtylog.kvm;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.ClearDirtyLog;
import org.dirtylog.spi.DirtyGfn;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserDirtyLog;
import org.dirtylog.spi.UserMemory;

/**
 * A virtual machine ({@code struct kvm}) and its ioctl surface: memslots published through one
 * RCU pointer and replaced under the slots lock, an {@link Srcu} for the vCPU side, an explicit
 * user address space. The dirty log is {@link DirtyLog}'s, the guest write path {@link Vcpu}'s;
 * architecture differences live behind {@link ArchHooks}. The lock order is in the package
 * documentation.
 *
 * <p>Every ioctl validates completely before it changes anything, so a failed call leaves the
 * VM exactly as it was.
 */
public final class Vm implements BackendVm {

    /** {@code KVM_MEMORY_SLOTS} of 2010 x86. */
    static final int DEFAULT_MEMORY_SLOTS = 32;
    /** {@code KVM_MAX_VCPUS}. */
    static final int MAX_VCPUS = 64;
    /** First guest physical address past what the emulated MMU can reach (1 TiB). */
    static final long GUEST_PHYS_LIMIT = 1L << 40;
    /** {@code KVM_CAP_USER_DIRTY_LOG} generation implemented. */
    static final int USER_DIRTY_LOG_GENERATION = 1;
    /** {@code KVM_DIRTY_LOG_MANUAL_CAPS}: the manual-protect flags an architecture with the generic protect path accepts. */
    static final long MANUAL_DIRTY_LOG_CAPS = KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KvmApi.KVM_DIRTY_LOG_INITIALLY_SET;

    private static final IoctlResult<Integer> OK = IoctlResult.ok(0);

    /** {@code kvm->srcu}: a vCPU's memslot lookup and everything it does with the slot is one read section. */
    final Srcu srcu = new Srcu();
    /** Read sections = a vCPU in guest mode (check writability, store); what a TLB flush waits for. */
    final Srcu guestMode = new Srcu();

    private final ArchHooks hooks;
    private final CoreSeams seams;
    private final int slotLimit;
    /** {@code kvm->slots_lock}: serialises everything that replaces memslots or bitmaps. */
    private final ReentrantLock slotsLock = new ReentrantLock();
    private final UserAddressSpace userMemory = new UserAddressSpace();
    private final Map<Integer, Vcpu> vcpus = new ConcurrentHashMap<>();
    private final LongAdder useAfterFree = new LongAdder();
    private final ArchContext archContext;
    private final DirtyLog dirtyLog;
    private volatile Memslots memslots;
    private volatile boolean closed;
    /** {@code kvm->dirty_ring_size} in bytes, 0 while no ring is enabled; set once, under the slots lock. */
    private volatile long dirtyRingBytes;
    /** {@code kvm->created_vcpus != 0}: set by the first KVM_CREATE_VCPU, never cleared. */
    private boolean vcpuCreated;

    /**
     * Creates a VM of {@code slotLimit} slots from the architecture's {@code hooks} and the core's {@code seams}.
     *
     * @throws IllegalArgumentException when the slot limit is outside {@code [1, 2^16]}
     */
    Vm(ArchHooks hooks, CoreSeams seams, int slotLimit) {
        if (slotLimit < 1 || slotLimit > (1 << KvmApi.ADDRESS_SPACE_SHIFT)) {
            throw new IllegalArgumentException("slot limit out of range: " + slotLimit);
        }
        this.hooks = hooks;
        this.seams = seams;
        this.slotLimit = slotLimit;
        this.memslots = new Memslots(slotLimit);
        this.archContext = new ArchContext(guestMode, seams.bitmaps());
        this.dirtyLog = new DirtyLog(this, hooks, archContext, seams.gracePeriods());
    }

    /** Returns how many times a vCPU used a memslots array or bitmap after it was freed (0 when correct). */
    public long useAfterFreeCount() {
        return useAfterFree.sum();
    }

    /** Returns the current memslots snapshot (the RCU pointer); vCPUs read it inside an SRCU read section. */
    Memslots memslots() {
        return memslots;
    }

    /**
     * Replaces the RCU pointer with {@code next} and returns the previous snapshot, which the
     * caller frees after a grace period. Caller holds the slots lock. TLA+: PublishMemslots.
     */
    Memslots publishMemslots(Memslots next) {
        Memslots old = memslots;
        memslots = next;
        return old;
    }

    void countUseAfterFree() {
        useAfterFree.increment();
    }

    /** Returns true while a grace period or a TLB flush waits for vCPUs (they then yield between accesses). */
    boolean vcpusAwaited() {
        return srcu.gracePeriodWaiting() || guestMode.gracePeriodWaiting();
    }

    /** Forgets a closed vCPU and frees its dirty ring, under the slots lock so no reset is walking it. */
    void vcpuClosed(Vcpu vcpu) {
        slotsLock.lock();
        try {
            vcpus.remove(vcpu.id(), vcpu);
            if (vcpu.dirtyRing() != null) {
                vcpu.dirtyRing().close();
            }
        } finally {
            slotsLock.unlock();
        }
    }

    // ---- the ioctl surface ----

    /**
     * {@code KVM_CHECK_EXTENSION} ({@code kvm_dev_ioctl_check_extension_generic}): returns 1 for {@code KVM_CAP_USER_DIRTY_LOG} (generation 1),
     * the slot limit for {@code KVM_CAP_NR_MEMSLOTS}, the manual-protect mask for
     * {@code KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2} (ENABLE | INITIALLY_SET where the architecture has
     * the generic protect path, else 0), the largest ring in bytes for {@code KVM_CAP_DIRTY_LOG_RING}
     * and {@code _ACQ_REL} (0 where the architecture has none), 0 for anything else. Never fails.
     */
    @Override
    public IoctlResult<Integer> checkExtension(long capability) {
        if (capability == KvmApi.KVM_CAP_USER_DIRTY_LOG) {
            return IoctlResult.ok(USER_DIRTY_LOG_GENERATION);
        }
        if (capability == KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) {
            return IoctlResult.ok((int) manualDirtyLogProtectMask());
        }
        if (capability == KvmApi.KVM_CAP_NR_MEMSLOTS) {
            return IoctlResult.ok(slotLimit);
        }
        if (capability == KvmApi.KVM_CAP_DIRTY_LOG_RING || capability == KvmApi.KVM_CAP_DIRTY_LOG_RING_ACQ_REL) {
            return IoctlResult.ok(Math.toIntExact(hooks.dirtyRingMaxBytes()));
        }
        return IoctlResult.ok(0);
    }

    /**
     * Maps {@code length} bytes of fresh zeroed user memory and returns them.
     * Errors in check order: -EBADF (VM closed), -EINVAL (length not a positive multiple of the
     * page size), -ENOMEM.
     */
    @Override
    public IoctlResult<UserMemory> mmap(long length) {
        // Under the slots lock: close() empties the address space under it, so a mapping made
        // concurrently is either refused here or unmapped there, never leaked.
        slotsLock.lock();
        try {
            if (closed) {
                return IoctlResult.err(Errno.EBADF);
            }
            return userMemory.mmap(length);
        } finally {
            slotsLock.unlock();
        }
    }

    /**
     * Unmaps a range returned by {@link #mmap(long)} and returns 0.
     * Errors in check order: -EBADF (VM closed), -EINVAL (not a mapped range), -EBUSY (the
     * mapping could not be released now; it stays mapped).
     */
    @Override
    public IoctlResult<Integer> munmap(UserMemory memory) {
        // Under the slots lock: a GET resolves its buffer, harvests, then copies; an unmap in
        // between would fail the copy after the bits were swapped out and lose them.
        slotsLock.lock();
        try {
            if (closed) {
                return IoctlResult.err(Errno.EBADF);
            }
            return userMemory.munmap(memory);
        } finally {
            slotsLock.unlock();
        }
    }

    /**
     * Returns the host's view of {@code length} bytes of user memory at {@code address}.
     * Errors in check order: -EBADF (VM closed), -EFAULT (any byte not user memory).
     */
    @Override
    public IoctlResult<MemorySegment> accessUser(long address, long length) {
        if (closed) {
            return IoctlResult.err(Errno.EBADF);
        }
        MemorySegment segment = userMemory.resolve(address, length);
        return segment == null ? IoctlResult.err(Errno.EFAULT) : IoctlResult.ok(segment);
    }

    /**
     * {@code KVM_SET_USER_MEMORY_REGION} ({@code kvm_set_memory_region}): creates, moves,
     * re-flags or (size 0) deletes a memslot and returns 0.
     * Errors in check order: -EBADF (VM closed); -EINVAL (address space id not 0, slot id
     * {@code >= KVM_MEMORY_SLOTS}, unknown flag, size/gpa/user address not page aligned or
     * negative, range past the guest physical limit, deletion of an absent slot, size or user
     * address change of an existing slot, user range not mapped user memory); -EEXIST (overlap
     * with another slot); -ENOMEM (bitmap or page table allocation failed).
     * Rules: a fresh all-zero bitmap when logging is switched on (S3/S4), freed when switched
     * off (S4), kept on a move (S5), identical call is a no-op (S2).
     * TLA+: LogOn, LogOff (then PublishMemslots, GracePeriod, FreeOldMemslots).
     */
    @Override
    public IoctlResult<Integer> setUserMemoryRegion(MemoryRegion region) {
        slotsLock.lock();
        try {
            Errno errno = setUserMemoryRegionLocked(region);
            return errno == null ? OK : IoctlResult.err(errno);
        } finally {
            slotsLock.unlock();
        }
    }

    /** Returns null when the region was applied, else the errno, having changed nothing. */
    private Errno setUserMemoryRegionLocked(MemoryRegion r) {
        if (closed) {
            return Errno.EBADF;
        }
        if (!validSlotId(r.slot())) {
            return Errno.EINVAL;
        }
        if ((r.flags() & ~KvmApi.KVM_MEM_LOG_DIRTY_PAGES) != 0) {
            return Errno.EINVAL;
        }
        long pageMask = KvmApi.PAGE_SIZE - 1;
        if (r.memorySize() < 0 || (r.memorySize() & pageMask) != 0 || (r.guestPhysAddr() & pageMask) != 0
                || (r.userspaceAddr() & pageMask) != 0 || r.guestPhysAddr() < 0
                || r.memorySize() > GUEST_PHYS_LIMIT || r.guestPhysAddr() > GUEST_PHYS_LIMIT - r.memorySize()) {
            return Errno.EINVAL;
        }
        int id = r.slot();
        Memslots current = memslots;
        Memslot old = current.get(id);
        if (r.memorySize() == 0) {
            if (old == null) {
                return Errno.EINVAL;
            }
            deleteSlot(current, old);
            return null;
        }
        long npages = r.npages();
        long baseGfn = r.guestPhysAddr() >>> KvmApi.PAGE_SHIFT;
        MemorySegment memory;
        if (old != null) {
            if (old.npages() != npages || old.userspaceAddr() != r.userspaceAddr()) {
                return Errno.EINVAL;
            }
            memory = old.memory();
        } else {
            memory = userMemory.resolveMapped(r.userspaceAddr(), r.memorySize());
            if (memory == null) {
                return Errno.EINVAL;
            }
        }
        for (Memslot other : current.slots()) {
            if (other.id() != id && other.overlaps(baseGfn, npages)) {
                return Errno.EEXIST;
            }
        }
        if (old == null) {
            return createSlot(current, id, baseGfn, npages, r, memory);
        }
        if (old.baseGfn() == baseGfn && old.flags() == r.flags()) {
            return null;
        }
        return updateSlot(current, old, baseGfn, r.flags());
    }

    private Errno createSlot(Memslots current, int id, long baseGfn, long npages, MemoryRegion r, MemorySegment memory) {
        ArchMemslot arch;
        try {
            arch = hooks.createArchMemslot(archContext, npages);
        } catch (OutOfMemoryError e) {
            return Errno.ENOMEM;
        }
        DirtyBitmap[] pair = null;
        if ((r.flags() & KvmApi.KVM_MEM_LOG_DIRTY_PAGES) != 0) {
            pair = allocatePair(npages);
            if (pair == null) {
                arch.close();
                return Errno.ENOMEM;
            }
        }
        Memslot slot = new Memslot(id, baseGfn, npages, r.flags(), r.userspaceAddr(), memory, arch,
                pair == null ? null : pair[0], pair == null ? null : pair[1]);
        exportPair(slot);
        replace(current.with(slot));                                   // TLA+: LogOn (created logged)
        hooks.commitMemoryRegion(archContext, null, slot, MemslotChange.CREATE);
        return null;
    }

    /**
     * Moves and/or re-flags an existing slot in one publish: allocates first (so -ENOMEM
     * changes nothing), publishes, waits a grace period, lets the architecture commit, then
     * retires what the old slot alone used.
     */
    private Errno updateSlot(Memslots current, Memslot old, long baseGfn, int flags) {
        boolean moved = old.baseGfn() != baseGfn;
        boolean logged = (flags & KvmApi.KVM_MEM_LOG_DIRTY_PAGES) != 0;
        ArchMemslot arch = old.arch();
        if (moved) {
            try {
                arch = hooks.createArchMemslot(archContext, old.npages());
            } catch (OutOfMemoryError e) {
                return Errno.ENOMEM;
            }
        }
        DirtyBitmap[] pair = null;
        if (logged && old.dirtyLogged()) {
            pair = new DirtyBitmap[] {old.dirtyBitmap(), old.dirtyBitmapOld()};   // S5: pending pages stay
        } else if (logged) {
            pair = allocatePair(old.npages());
            if (pair == null) {
                if (moved) {
                    arch.close();
                }
                return Errno.ENOMEM;
            }
        }
        Memslot next = new Memslot(old.id(), baseGfn, old.npages(), flags, old.userspaceAddr(), old.memory(), arch,
                pair == null ? null : pair[0], pair == null ? null : pair[1]);
        if (next.dirtyBitmap() != old.dirtyBitmap()) {
            unexportPair(old);
            exportPair(next);
        }
        replace(current.with(next));                                   // TLA+: LogOn / LogOff
        hooks.commitMemoryRegion(archContext, old, next, moved ? MemslotChange.MOVE : MemslotChange.FLAGS_ONLY);
        if (moved) {
            // The old mappings translate the old gfns: zapped once no vCPU can use them.
            old.arch().close();
        }
        if (!logged && old.dirtyLogged()) {
            freePair(old);
        }
        return null;
    }

    private void deleteSlot(Memslots current, Memslot old) {
        unexportPair(old);
        replace(current.without(old.id()));
        hooks.commitMemoryRegion(archContext, old, null, MemslotChange.DELETE);
        old.arch().close();
        freePair(old);
    }

    /** Publishes {@code next}, waits a grace period, frees the previous array and returns it (for its slots). */
    private Memslots replace(Memslots next) {
        Memslots old = publishMemslots(next);                          // TLA+: PublishMemslots
        seams.gracePeriods().memslotsPublished(srcu);                  // TLA+: GracePeriod
        old.free();                                                    // TLA+: FreeOldMemslots
        return old;
    }

    /**
     * Returns a fresh bitmap pair, the active one all ones for npages under INITIALLY_SET
     * ({@code kvm_prepare_memory_region}), or null for -ENOMEM.
     */
    private DirtyBitmap[] allocatePair(long npages) {
        DirtyBitmap first = null;
        try {
            first = archContext.manualProtectInitiallySet()
                    ? seams.bitmaps().allocateInitiallySet(npages) : seams.bitmaps().allocate(npages, true);
            return new DirtyBitmap[] {first, seams.bitmaps().allocate(npages, true)};
        } catch (OutOfMemoryError e) {
            if (first != null) {
                first.close();
            }
            return null;
        }
    }

    private void exportPair(Memslot slot) {
        if (slot.dirtyBitmap() != null) {
            userMemory.export(slot.dirtyBitmap());
            userMemory.export(slot.dirtyBitmapOld());
        }
    }

    private void unexportPair(Memslot slot) {
        if (slot.dirtyBitmap() != null) {
            userMemory.unexport(slot.dirtyBitmap());
            userMemory.unexport(slot.dirtyBitmapOld());
        }
    }

    private static void freePair(Memslot slot) {
        if (slot.dirtyBitmap() != null) {
            slot.dirtyBitmap().close();
            slot.dirtyBitmapOld().close();
        }
    }

    /**
     * {@code KVM_GET_DIRTY_LOG} ({@code kvm_vm_ioctl_get_dirty_log}): harvests the slot and copies
     * its bitmap to user memory at {@code dirtyBitmap} ({@code ALIGN(npages, 64) / 8} bytes, all
     * written; all zero for a clean slot) and returns 0.
     * Errors in check order: -EBADF (VM closed), -ENXIO (the dirty ring is on: bitmaps are not
     * kept), -EINVAL (slot id {@code >= KVM_MEMORY_SLOTS}
     * or address space id not 0), -ENOENT (no such slot, or logging off), -EFAULT (buffer not
     * writable user memory; checked before anything is harvested, so no bit is lost).
     * With manual protect on it only copies the active bitmap ({@link DirtyLog#getDirtyLogManual}).
     * TLA+: HarvestBegin, the harvest of {@link DirtyLog#harvest}, CopyToUser, HarvestEnd.
     */
    @Override
    public IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap) {
        slotsLock.lock();
        try {
            Errno errno = checkBitmapsReachable();
            errno = errno != null ? errno : checkLoggedSlot(slot);
            if (errno != null) {
                return IoctlResult.err(errno);
            }
            Memslot memslot = memslots.get(slot);
            MemorySegment buffer = userMemory.resolve(dirtyBitmap, memslot.dirtyBitmap().byteSize());
            if (buffer == null) {
                return IoctlResult.err(Errno.EFAULT);
            }
            // The buffer stays mapped until the copy is done: munmap takes the slots lock, so
            // nothing can fail once the harvest has begun (no bit is lost on -EFAULT).
            if (archContext.manualDirtyLogProtect()) {
                dirtyLog.getDirtyLogManual(memslot, buffer);
            } else {
                dirtyLog.getDirtyLog(memslot, buffer);
            }
            return OK;
        } finally {
            slotsLock.unlock();
        }
    }

    /**
     * {@code KVM_GET_USER_DIRTY_LOG_ADDR} (RFC 4.39, {@code kvm_vm_ioctl_get_user_dirty_log_addr}): reads {@code struct kvm_user_dirty_log} at
     * {@code argp}, fills in the user addresses of the slot's active and cold bitmaps, writes
     * it back and returns 0. Errors in check order: -EBADF (VM closed), -EFAULT (argp not 24
     * bytes of user memory), -EINVAL (slot id out of range), -ENOENT (no such slot, or logging off).
     * TLA+: none (reads state only).
     */
    @Override
    public IoctlResult<Integer> getUserDirtyLogAddr(long argp) {
        slotsLock.lock();
        try {
            // A closed VM has no user memory left, so -EBADF must be decided before argp is looked up.
            if (closed) {
                return IoctlResult.err(Errno.EBADF);
            }
            MemorySegment arg = userMemory.resolve(argp, KvmApi.USER_DIRTY_LOG_SIZE);
            if (arg == null) {
                return IoctlResult.err(Errno.EFAULT);
            }
            UserDirtyLog in;
            try {
                // Native memory: copy_from_user of the 24-byte struct, bounds-checked above.
                in = UserDirtyLog.readFrom(arg);
            } catch (IllegalStateException unmapped) {
                return IoctlResult.err(Errno.EFAULT);
            }
            Errno errno = checkLoggedSlot(in.slot());
            if (errno != null) {
                return IoctlResult.err(errno);
            }
            Memslot memslot = memslots.get(in.slot());
            try {
                // Native memory: copy_to_user of the struct.
                new UserDirtyLog(in.slot(), in.flags(), memslot.dirtyBitmap().address(),
                        memslot.dirtyBitmapOld().address()).writeTo(arg);
            } catch (IllegalStateException unmapped) {
                return IoctlResult.err(Errno.EFAULT);
            }
            return IoctlResult.ok(0);
        } finally {
            slotsLock.unlock();
        }
    }

    /**
     * {@code KVM_SWITCH_DIRTY_LOG} (RFC 4.40, {@code kvm_vm_ioctl_switch_dirty_log}): returns 0
     * after making the cleared cold bitmap active (the previously active one now holds the pages
     * dirtied since the last switch), or 1 when the slot was clean (nothing changed).
     * Errors in check order: -EBADF (VM closed), -ENXIO (the dirty ring is on, as for
     * {@code KVM_GET_DIRTY_LOG}), -EINVAL (slot id out of range), -ENOENT (no such slot, or logging off).
     * TLA+: HarvestBegin, the harvest of {@link DirtyLog#harvest}, HarvestEnd; property SwitchReturnsOneIffClean.
     */
    @Override
    public IoctlResult<Integer> switchDirtyLog(int slot) {
        slotsLock.lock();
        try {
            Errno errno = checkBitmapsReachable();
            errno = errno != null ? errno : checkLoggedSlot(slot);
            if (errno != null) {
                return IoctlResult.err(errno);
            }
            return IoctlResult.ok(dirtyLog.switchDirtyLog(memslots.get(slot)));
        } finally {
            slotsLock.unlock();
        }
    }

    /** Returns {@code KVM_DIRTY_LOG_MANUAL_CAPS} when the architecture offers manual protect, else 0. */
    private long manualDirtyLogProtectMask() {
        return hooks.genericDirtyLogReadProtect() ? MANUAL_DIRTY_LOG_CAPS : 0;
    }

    /**
     * {@code KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)} ({@code kvm_vm_ioctl_enable_cap_generic}):
     * sets the manual-protect mode to {@code args0} and returns 0. 0 turns it off (GET clears
     * again); INITIALLY_SET affects only bitmaps allocated afterwards. Errors in check order:
     * -EBADF (VM closed); -EINVAL when the architecture does not offer manual protect (the
     * capability falls through to the architecture, which does not know it), {@code flags != 0},
     * or a bit of {@code args0} outside ENABLE, or outside ENABLE | INITIALLY_SET when ENABLE is
     * set (so INITIALLY_SET alone is refused). A failed call leaves the mode as it was.
     * TLA+: none (the model fixes the mode per configuration: HarvestKinds, InitiallySet).
     */
    @Override
    public IoctlResult<Integer> enableManualDirtyLogProtect(int flags, long args0) {
        // Under the slots lock: a memslot change allocates its bitmaps and commits them under one
        // mode, so a slot never gets all-ones bitmaps and a write-protect, or neither.
        slotsLock.lock();
        try {
            if (closed) {
                return IoctlResult.err(Errno.EBADF);
            }
            long mask = manualDirtyLogProtectMask();
            long allowed = (args0 & KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE) != 0
                    ? mask : mask & KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
            if (mask == 0 || flags != 0 || (args0 & ~allowed) != 0) {
                return IoctlResult.err(Errno.EINVAL);
            }
            archContext.manualDirtyLogProtect(args0);
            return OK;
        } finally {
            slotsLock.unlock();
        }
    }

    /**
     * {@code KVM_CLEAR_DIRTY_LOG} ({@code kvm_vm_ioctl_clear_dirty_log}, {@code kvm_clear_dirty_log_protect}):
     * reads exactly {@code ALIGN(num_pages, 64) / 8} bytes of the user bitmap, clears each named
     * page that is dirty and re-arms its tracking, all before returning ({@link DirtyLog#clearDirtyLog}),
     * and returns 0; works with manual protect on or off. Errors in check order: -EBADF (VM closed),
     * -ENOTTY (the architecture has no generic protect path: the ioctl is unknown),
     * -EINVAL (address space or slot id out of range), -EINVAL ({@code first_page} not a multiple
     * of 64), -ENOENT (no such slot, or logging off), -EINVAL (range past the slot's end, unsigned;
     * or {@code num_pages} not a multiple of 64 short of the slot's end), -EFAULT (a byte of the
     * user bitmap is not user memory). A failed call changes nothing.
     * TLA+: ClearBegin, ClearBits, ReArmPage, HarvestEnd.
     */
    @Override
    public IoctlResult<Integer> clearDirtyLog(ClearDirtyLog log) {
        slotsLock.lock();
        try {
            if (closed) {
                return IoctlResult.err(Errno.EBADF);
            }
            if (!hooks.genericDirtyLogReadProtect()) {
                return IoctlResult.err(Errno.ENOTTY);
            }
            if (dirtyRingBytes != 0) {
                return IoctlResult.err(Errno.ENXIO);                   // !kvm_use_dirty_bitmap: the first check
            }
            if (!validSlotId(log.slot())) {
                return IoctlResult.err(Errno.EINVAL);
            }
            if ((log.firstPage() & 63) != 0) {
                return IoctlResult.err(Errno.EINVAL);
            }
            Memslot memslot = memslots.get(log.slot());
            if (memslot == null || !memslot.dirtyLogged()) {
                return IoctlResult.err(Errno.ENOENT);
            }
            if (log.rangeInvalidFor(memslot.npages())) {
                return IoctlResult.err(Errno.EINVAL);
            }
            long bytes = log.bitmapBytes();
            if (bytes == 0) {
                return OK;                                             // copy_from_user of 0 bytes: nothing named
            }
            MemorySegment user = userMemory.resolve(log.dirtyBitmap(), bytes);
            if (user == null) {
                return IoctlResult.err(Errno.EFAULT);
            }
            // The bitmap stays mapped while it is read: munmap takes the slots lock.
            dirtyLog.clearDirtyLog(memslot, log.firstPage(), user, bytes >>> 3);
            return OK;
        } finally {
            slotsLock.unlock();
        }
    }

    /**
     * Returns -EBADF (VM closed) or -ENXIO (the dirty ring is on, {@code !kvm_use_dirty_bitmap}):
     * the first checks of the bitmap harvests, which with the ring on would report nothing,
     * since marks go to the rings; null when the bitmaps are in use.
     */
    private Errno checkBitmapsReachable() {
        if (closed) {
            return Errno.EBADF;
        }
        return dirtyRingBytes != 0 ? Errno.ENXIO : null;
    }

    /** Returns the errno of the checks every dirty-log ioctl makes first, in order, or null when the slot is logged. */
    private Errno checkLoggedSlot(int slot) {
        if (closed) {
            return Errno.EBADF;
        }
        if (!validSlotId(slot)) {
            return Errno.EINVAL;
        }
        Memslot memslot = memslots.get(slot);
        return memslot == null || !memslot.dirtyLogged() ? Errno.ENOENT : null;
    }

    private boolean validSlotId(int slot) {
        return Integer.toUnsignedLong(slot) < slotLimit;
    }

    /**
     * {@code KVM_CREATE_VCPU} ({@code kvm_vm_ioctl_create_vcpu}): returns vCPU {@code id}.
     * Errors in check order: -EBADF (VM closed), -EINVAL (id outside {@code [0, KVM_MAX_VCPUS)}),
     * -EEXIST (id taken), -ENOMEM (its dirty ring could not be allocated).
     */
    @Override
    public IoctlResult<BackendVcpu> createVcpu(int id) {
        slotsLock.lock();
        try {
            if (closed) {
                return IoctlResult.err(Errno.EBADF);
            }
            if (id < 0 || id >= MAX_VCPUS) {
                return IoctlResult.err(Errno.EINVAL);
            }
            if (vcpus.containsKey(id)) {
                return IoctlResult.err(Errno.EEXIST);
            }
            DirtyRing ring = null;
            long ringBytes = dirtyRingBytes;
            if (ringBytes != 0) {
                long entries = ringBytes / DirtyGfn.SIZE;
                try {
                    ring = seams.rings().allocate(entries, entries - KvmApi.KVM_DIRTY_RING_RSVD_ENTRIES);
                } catch (OutOfMemoryError e) {
                    return IoctlResult.err(Errno.ENOMEM);
                }
            }
            vcpuCreated = true;
            Vcpu vcpu = new Vcpu(this, hooks, dirtyLog, id, hooks.createArchVcpu(id), ring);
            vcpus.put(id, vcpu);
            return IoctlResult.ok(vcpu);
        } finally {
            slotsLock.unlock();
        }
    }

    /**
     * {@code KVM_ENABLE_CAP(KVM_CAP_DIRTY_LOG_RING or _ACQ_REL)} ({@code kvm_vm_ioctl_enable_cap_generic},
     * {@code kvm_vm_ioctl_enable_dirty_log_ring}): every vCPU created from now on gets a ring of
     * {@code args0} bytes read as a {@code u32}, marks go to the rings, and the bitmap harvests
     * answer -ENXIO; returns 0. {@code flags} is ignored, as by the kernel.
     * Errors in the kernel's check order: -EBADF (VM closed); -EINVAL (the capability is not one
     * of the two, or {@code KVM_CHECK_EXTENSION} reports it as 0: the architecture has no ring,
     * 7a2726ec); -EINVAL (size 0 or not a power of two); -EINVAL (smaller than a page or than the
     * 64 reserved entries); -E2BIG (larger than {@code KVM_CHECK_EXTENSION} reports); -EINVAL (a
     * ring is already enabled, by either capability); -EINVAL (a vCPU has been created). A failed
     * call changes nothing. TLA+ (spec/models/ring): the rings of RingSize entries of Init.
     */
    @Override
    public IoctlResult<Integer> enableDirtyLogRing(int capability, int flags, long args0) {
        slotsLock.lock();
        try {
            if (closed) {
                return IoctlResult.err(Errno.EBADF);
            }
            if ((capability != KvmApi.KVM_CAP_DIRTY_LOG_RING && capability != KvmApi.KVM_CAP_DIRTY_LOG_RING_ACQ_REL)
                    || hooks.dirtyRingMaxBytes() == 0) {
                return IoctlResult.err(Errno.EINVAL);
            }
            long size = args0 & 0xffff_ffffL;
            if (size == 0 || Long.bitCount(size) != 1) {
                return IoctlResult.err(Errno.EINVAL);
            }
            if (size < KvmApi.KVM_DIRTY_RING_RSVD_ENTRIES * DirtyGfn.SIZE || size < KvmApi.PAGE_SIZE) {
                return IoctlResult.err(Errno.EINVAL);
            }
            if (size > hooks.dirtyRingMaxBytes()) {
                return IoctlResult.err(Errno.E2BIG);
            }
            if (dirtyRingBytes != 0 || vcpuCreated) {
                return IoctlResult.err(Errno.EINVAL);
            }
            dirtyRingBytes = size;
            return OK;
        } finally {
            slotsLock.unlock();
        }
    }

    /**
     * {@code KVM_RESET_DIRTY_RINGS} ({@code kvm_vm_ioctl_reset_dirty_pages}): resets the harvested
     * prefix of every vCPU's ring in vCPU-id order ({@link DirtyLog#resetDirtyRings}), flushes if
     * anything was reset, and returns how many entries it reset. Serialised with every other
     * ioctl by the slots lock, as the kernel's walk is by {@code slots_lock}.
     * Errors in check order: -EBADF (VM closed), -EINVAL (no ring enabled).
     * TLA+: ResetEntry, ResetEnd.
     */
    @Override
    public IoctlResult<Integer> resetDirtyRings() {
        slotsLock.lock();
        try {
            if (closed) {
                return IoctlResult.err(Errno.EBADF);
            }
            if (dirtyRingBytes == 0) {
                return IoctlResult.err(Errno.EINVAL);
            }
            List<DirtyRing> rings = new ArrayList<>();
            new TreeMap<>(vcpus).values().forEach(v -> rings.add(v.dirtyRing()));
            long cleared = dirtyLog.resetDirtyRings(rings);
            return IoctlResult.ok((int) Math.min(cleared, Integer.MAX_VALUE));
        } finally {
            slotsLock.unlock();
        }
    }

    /** Stops every vCPU and frees every memslot, bitmap and mapping. Idempotent; never throws. */
    @Override
    public void close() {
        List<Vcpu> toClose;
        slotsLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            toClose = new ArrayList<>(vcpus.values());
        } finally {
            slotsLock.unlock();
        }
        // Not under the slots lock: the vCPU monitor is never held together with it.
        toClose.forEach(Vcpu::close);
        slotsLock.lock();
        try {
            Memslots old = replace(new Memslots(slotLimit));
            for (Memslot slot : old.slots()) {
                unexportPair(slot);
                slot.arch().close();
                freePair(slot);
            }
            userMemory.close();
        } finally {
            slotsLock.unlock();
        }
    }
}
