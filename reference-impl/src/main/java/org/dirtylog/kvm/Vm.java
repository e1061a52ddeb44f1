package org.dirtylog.kvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserDirtyLog;
import org.dirtylog.spi.UserMemory;

/**
 * A virtual machine ({@code struct kvm}): memslots published through one RCU pointer and
 * replaced under the slots lock, an {@link Srcu} for the vCPU side, the dirty-log ioctls and
 * an explicit user address space. Architecture differences live behind {@link ArchHooks}.
 *
 * <p>Every ioctl validates completely before it changes anything, so a failed call leaves the
 * VM exactly as it was.
 */
public final class Vm implements BackendVm {

    /** {@code KVM_MEMORY_SLOTS} of 2010 x86. */
    public static final int DEFAULT_MEMORY_SLOTS = 32;
    /** {@code KVM_MAX_VCPUS}. */
    public static final int MAX_VCPUS = 64;
    /** First guest physical address past what the emulated MMU can reach (1 TiB). */
    public static final long GUEST_PHYS_LIMIT = 1L << 40;
    /** {@code KVM_CAP_USER_DIRTY_LOG} generation implemented. */
    public static final int USER_DIRTY_LOG_GENERATION = 1;

    /** Under {@link Defect#FLUSH_AFTER_UNLOCK}: how long a vCPU holds a writability it checked before storing. */
    private static final long FLUSH_WINDOW_NANOS = 20_000;

    private static final ValueLayout.OfLong GUEST_LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final ArchHooks hooks;
    private final Set<Defect> defects;
    private final int slotLimit;
    private final Srcu srcu = new Srcu();
    /** Read sections = a vCPU in guest mode (check writability, store); what a TLB flush waits for. */
    private final Srcu guestMode = new Srcu();
    private final ReentrantLock slotsLock = new ReentrantLock();
    private final UserAddressSpace userMemory = new UserAddressSpace();
    private final Map<Integer, Vcpu> vcpus = new ConcurrentHashMap<>();
    private final DirtyBitmap[][] retainedBitmaps;
    private final LongAdder useAfterFree = new LongAdder();
    private volatile Memslots memslots;
    private volatile boolean closed;

    private final boolean widenSwapWindow;
    private final boolean widenFlushWindow;
    private final boolean skipGracePeriod;
    private final boolean skipTlbFlushWait;
    private final boolean skipSpareClear;

    /** Creates a VM with {@link #DEFAULT_MEMORY_SLOTS} slots and no defects. */
    public Vm(ArchHooks hooks) {
        this(hooks, Set.of(), DEFAULT_MEMORY_SLOTS);
    }

    /**
     * Creates a VM for {@code hooks} with {@code defects} injected and {@code slotLimit} slots.
     *
     * @throws IllegalArgumentException when a defect does not apply to the architecture
     */
    public Vm(ArchHooks hooks, Set<Defect> defects, int slotLimit) {
        if (slotLimit < 1 || slotLimit > (1 << KvmApi.ADDRESS_SPACE_SHIFT)) {
            throw new IllegalArgumentException("slot limit out of range: " + slotLimit);
        }
        requireApplicable(hooks, defects);
        this.hooks = hooks;
        this.defects = defects.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(defects));
        this.slotLimit = slotLimit;
        this.memslots = new Memslots(slotLimit);
        this.retainedBitmaps = new DirtyBitmap[slotLimit][];
        this.widenSwapWindow = defects.contains(Defect.NO_GRACE_PERIOD);
        this.skipGracePeriod = defects.contains(Defect.NO_GRACE_PERIOD);
        this.widenFlushWindow = defects.contains(Defect.FLUSH_AFTER_UNLOCK);
        this.skipTlbFlushWait = defects.contains(Defect.FLUSH_AFTER_UNLOCK);
        this.skipSpareClear = defects.contains(Defect.SWITCH_SKIPS_CLEAR);
    }

    /**
     * Returns normally when every one of {@code defects} applies to the architecture of {@code hooks}.
     *
     * @throws IllegalArgumentException naming the first defect that does not apply
     */
    static void requireApplicable(ArchHooks hooks, Set<Defect> defects) {
        Set<Defect> applicable = hooks.applicableDefects();
        for (Defect defect : defects) {
            if (!applicable.contains(defect)) {
                throw new IllegalArgumentException(defect + " does not apply to " + hooks.name());
            }
        }
    }

    /** Returns the architecture hooks. */
    public ArchHooks hooks() {
        return hooks;
    }

    /** Returns true when {@code defect} was injected. */
    public boolean has(Defect defect) {
        return defects.contains(defect);
    }

    /** Returns the injected defects. */
    public Set<Defect> defects() {
        return defects;
    }

    /** Returns the VM's SRCU ({@code kvm->srcu}). */
    public Srcu srcu() {
        return srcu;
    }

    /** Returns the current memslots snapshot (the RCU pointer). */
    public Memslots memslots() {
        return memslots;
    }

    /** Returns the slot limit ({@code KVM_MEMORY_SLOTS}). */
    public int slotLimit() {
        return slotLimit;
    }

    /** Returns the user address space. */
    public UserAddressSpace userMemory() {
        return userMemory;
    }

    /** Returns how many times a vCPU used a memslots array or bitmap after it was freed (0 when correct). */
    public long useAfterFreeCount() {
        return useAfterFree.sum();
    }

    // ---- building blocks for the architecture hooks (callers hold the slots lock) ----

    /**
     * Replaces the RCU pointer with {@code next} and returns the previous snapshot, which the
     * caller frees after a grace period. TLA+: PublishMemslots.
     */
    public Memslots publishMemslots(Memslots next) {
        requireSlotsLock();
        Memslots old = memslots;
        memslots = next;
        return old;
    }

    /**
     * Waits until no vCPU can still use a memslots array or bitmap pointer loaded before the
     * call. TLA+: GracePeriod. Skipped under {@link Defect#NO_GRACE_PERIOD}.
     */
    public void gracePeriod() {
        if (!skipGracePeriod) {
            srcu.synchronizeExpedited();
        }
    }

    /**
     * Waits until every vCPU has left guest mode once, so none still stores through a mapping
     * it found writable before a write-protect ({@code kvm_flush_remote_tlbs}). Under
     * {@link Defect#FLUSH_AFTER_UNLOCK} the harvest returns without waiting.
     */
    public void flushRemoteTlbs() {
        if (!skipTlbFlushWait) {
            guestMode.synchronizeExpedited();
        }
    }

    /** Returns true while a grace period or a TLB flush waits for vCPUs (they then yield between accesses). */
    boolean vcpusAwaited() {
        return srcu.gracePeriodWaiting() || guestMode.gracePeriodWaiting();
    }

    /**
     * Clears the slot's cold bitmap before it becomes active; O(words dirtied in it). Safe
     * because no vCPU has been able to set a bit in it since the grace period of the previous
     * swap. Skipped under {@link Defect#SWITCH_SKIPS_CLEAR}.
     */
    public void clearSpareBitmap(Memslot slot) {
        if (!skipSpareClear) {
            slot.dirtyBitmapOld().clear();
        }
    }

    /**
     * Yields before a write-protect under {@link Defect#FLUSH_AFTER_UNLOCK}, so that vCPUs
     * check writability just before it and store just after the harvest returned (widens the
     * race the defect injects).
     */
    public void widenFlushWindow() {
        if (widenFlushWindow) {
            for (int i = 0; i < 8; i++) {
                Thread.yield();
            }
        }
    }

    /**
     * Yields inside the mark-dirty window under {@link Defect#NO_GRACE_PERIOD} (widens the race
     * it injects: between loading and setting the active bitmap, or between marking and making
     * the page writable).
     */
    public void widenSwapWindow() {
        if (widenSwapWindow) {
            Thread.yield();
        }
    }

    private void requireSlotsLock() {
        if (!slotsLock.isHeldByCurrentThread()) {
            throw new IllegalStateException("the slots lock must be held");
        }
    }

    // ---- the ioctl surface ----

    /**
     * {@code KVM_CHECK_EXTENSION} ({@code kvm_dev_ioctl_check_extension_generic}): returns 1 for {@code KVM_CAP_USER_DIRTY_LOG} (generation 1),
     * the slot limit for {@code KVM_CAP_NR_MEMSLOTS}, 0 for anything else. Never fails.
     */
    @Override
    public IoctlResult<Integer> checkExtension(long capability) {
        if (capability == KvmApi.KVM_CAP_USER_DIRTY_LOG) {
            return IoctlResult.ok(USER_DIRTY_LOG_GENERATION);
        }
        if (capability == KvmApi.KVM_CAP_NR_MEMSLOTS) {
            return IoctlResult.ok(slotLimit);
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
            return IoctlResult.ofKernelReturn(setUserMemoryRegionLocked(region));
        } finally {
            slotsLock.unlock();
        }
    }

    private int setUserMemoryRegionLocked(MemoryRegion r) {
        if (closed) {
            return Errno.EBADF.kernelReturn();
        }
        if (!validSlotId(r.slot())) {
            return Errno.EINVAL.kernelReturn();
        }
        if ((r.flags() & ~KvmApi.KVM_MEM_LOG_DIRTY_PAGES) != 0) {
            return Errno.EINVAL.kernelReturn();
        }
        long pageMask = KvmApi.PAGE_SIZE - 1;
        if (r.memorySize() < 0 || (r.memorySize() & pageMask) != 0 || (r.guestPhysAddr() & pageMask) != 0
                || (r.userspaceAddr() & pageMask) != 0 || r.guestPhysAddr() < 0
                || r.memorySize() > GUEST_PHYS_LIMIT || r.guestPhysAddr() > GUEST_PHYS_LIMIT - r.memorySize()) {
            return Errno.EINVAL.kernelReturn();
        }
        int id = r.slot();
        Memslots current = memslots;
        Memslot old = current.get(id);
        if (r.memorySize() == 0) {
            return old == null ? Errno.EINVAL.kernelReturn() : deleteSlot(current, old);
        }
        long npages = r.npages();
        long baseGfn = r.guestPhysAddr() >>> KvmApi.PAGE_SHIFT;
        MemorySegment memory;
        if (old != null) {
            if (old.npages() != npages || old.userspaceAddr() != r.userspaceAddr()) {
                return Errno.EINVAL.kernelReturn();
            }
            memory = old.memory();
        } else {
            memory = userMemory.resolveMapped(r.userspaceAddr(), r.memorySize());
            if (memory == null) {
                return Errno.EINVAL.kernelReturn();
            }
        }
        for (Memslot other : current.slots()) {
            if (other.id() != id && other.overlaps(baseGfn, npages)) {
                return Errno.EEXIST.kernelReturn();
            }
        }
        if (old == null) {
            return createSlot(current, id, baseGfn, npages, r, memory);
        }
        if (old.baseGfn() == baseGfn && old.flags() == r.flags()) {
            return 0;
        }
        return updateSlot(current, old, baseGfn, r.flags());
    }

    private int createSlot(Memslots current, int id, long baseGfn, long npages, MemoryRegion r, MemorySegment memory) {
        ArchMemslot arch;
        try {
            arch = hooks.createArchMemslot(this, npages);
        } catch (OutOfMemoryError e) {
            return Errno.ENOMEM.kernelReturn();
        }
        DirtyBitmap[] pair = null;
        if ((r.flags() & KvmApi.KVM_MEM_LOG_DIRTY_PAGES) != 0) {
            pair = allocatePair(npages);
            if (pair == null) {
                arch.close();
                return Errno.ENOMEM.kernelReturn();
            }
        }
        Memslot slot = new Memslot(id, baseGfn, npages, r.flags(), r.userspaceAddr(), memory, arch,
                pair == null ? null : pair[0], pair == null ? null : pair[1]);
        exportPair(slot);
        replace(current.with(slot));
        return 0;
    }

    /**
     * Moves and/or re-flags an existing slot in one publish: allocates first (so -ENOMEM
     * changes nothing), publishes, waits a grace period, then retires what the old slot alone
     * used.
     */
    private int updateSlot(Memslots current, Memslot old, long baseGfn, int flags) {
        boolean moved = old.baseGfn() != baseGfn;
        boolean logged = (flags & KvmApi.KVM_MEM_LOG_DIRTY_PAGES) != 0;
        boolean logOn = logged && !old.dirtyLogged();
        boolean logOff = !logged && old.dirtyLogged();
        boolean dropBitmaps = moved && logged && old.dirtyLogged() && has(Defect.MOVE_DROPS_BITMAP);
        ArchMemslot arch = old.arch();
        if (moved) {
            try {
                arch = hooks.createArchMemslot(this, old.npages());
            } catch (OutOfMemoryError e) {
                return Errno.ENOMEM.kernelReturn();
            }
        }
        DirtyBitmap[] pair = null;
        if (logged && old.dirtyLogged() && !dropBitmaps) {
            pair = new DirtyBitmap[] {old.dirtyBitmap(), old.dirtyBitmapOld()};
        } else if (logged) {
            pair = logOn ? retainedBitmaps[old.id()] : null;
            if (pair == null) {
                pair = allocatePair(old.npages());
            }
            if (pair == null) {
                if (moved) {
                    arch.close();
                }
                return Errno.ENOMEM.kernelReturn();
            }
            retainedBitmaps[old.id()] = null;
        }
        Memslot next = new Memslot(old.id(), baseGfn, old.npages(), flags, old.userspaceAddr(), old.memory(), arch,
                pair == null ? null : pair[0], pair == null ? null : pair[1]);
        if (next.dirtyBitmap() != old.dirtyBitmap()) {
            unexportPair(old);
            exportPair(next);
        }
        replace(current.with(next));                                   // TLA+: LogOn / LogOff
        if (moved && !dropBitmaps && old.dirtyLogged() && logged) {
            hooks.memslotMoved(this, old, next);
        }
        if (moved) {
            // The old mappings translate the old gfns: zapped once no vCPU can use them.
            old.arch().close();
        }
        if (logOff && has(Defect.STALE_BITS_AFTER_LOG_TOGGLE)) {
            retainedBitmaps[old.id()] = new DirtyBitmap[] {old.dirtyBitmap(), old.dirtyBitmapOld()};
        } else if (logOff) {
            if (!moved) {
                hooks.dirtyLoggingDisabled(this, old);
            }
            freePair(old);
        } else if (dropBitmaps) {
            freePair(old);
        }
        // b64d740e: pages made writable while logging was off must fault again, and only after
        // every vCPU sees the bitmap (else a fault could find no bitmap and map writable unlogged).
        if (logOn && !moved && !has(Defect.NO_FLUSH_ON_LOG_ENABLE)) {
            hooks.writeProtectSlot(this, next);
        }
        return 0;
    }

    private int deleteSlot(Memslots current, Memslot old) {
        unexportPair(old);
        replace(current.without(old.id()));
        old.arch().close();
        freePair(old);
        freeRetained(old.id());
        return 0;
    }

    /** Frees the bitmaps slot {@code id} kept while logging was off ({@link Defect#STALE_BITS_AFTER_LOG_TOGGLE}), if any. */
    private void freeRetained(int id) {
        DirtyBitmap[] retained = retainedBitmaps[id];
        if (retained != null) {
            retained[0].close();
            retained[1].close();
            retainedBitmaps[id] = null;
        }
    }

    /** Publishes {@code next}, waits a grace period, frees the previous array and returns it (for its slots). */
    private Memslots replace(Memslots next) {
        Memslots old = publishMemslots(next);
        srcu.synchronize();
        old.free();
        return old;
    }

    private DirtyBitmap[] allocatePair(long npages) {
        DirtyBitmap first = null;
        try {
            first = DirtyBitmap.allocate(npages, defects);
            return new DirtyBitmap[] {first, DirtyBitmap.allocate(npages, defects)};
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
     * Errors in check order: -EBADF (VM closed), -EINVAL (slot id {@code >= KVM_MEMORY_SLOTS}
     * or address space id not 0), -ENOENT (no such slot, or logging off), -EFAULT (buffer not
     * writable user memory; checked before anything is harvested, so no bit is lost).
     * TLA+: HarvestBegin, then the architecture's harvest actions, CopyToUser, HarvestEnd.
     */
    @Override
    public IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap) {
        slotsLock.lock();
        try {
            Errno errno = checkLoggedSlot(slot);
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
            int r = hooks.updateDirtyLog(this, memslot);
            if (r == 0) {
                memslots.get(slot).dirtyBitmapOld().copyTo(buffer);            // TLA+: CopyToUser
            } else if (!has(Defect.CLEAN_GET_LEAVES_BUFFER)) {
                // Native memory: a clean slot still writes every byte of the buffer (G1).
                buffer.fill((byte) 0);
            }
            return IoctlResult.ok(0);
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
     * Errors in check order: -EBADF (VM closed), -EINVAL (slot id out of range), -ENOENT (no such
     * slot, or logging off).
     * TLA+: HarvestBegin, the architecture's harvest actions, HarvestEnd; property SwitchReturnsOneIffClean.
     */
    @Override
    public IoctlResult<Integer> switchDirtyLog(int slot) {
        slotsLock.lock();
        try {
            Errno errno = checkLoggedSlot(slot);
            if (errno != null) {
                return IoctlResult.err(errno);
            }
            return IoctlResult.ok(hooks.updateDirtyLog(this, memslots.get(slot)));
        } finally {
            slotsLock.unlock();
        }
    }

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
     * {@code KVM_CREATE_VCPU} ({@code kvm_vm_ioctl_create_vcpu}): returns vCPU {@code id}. Errors: -EBADF (VM closed), -EINVAL (id
     * outside {@code [0, KVM_MAX_VCPUS)}), -EEXIST (id taken).
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
            Vcpu vcpu = new Vcpu(this, id, hooks.createArchVcpu(this, id));
            vcpus.put(id, vcpu);
            return IoctlResult.ok(vcpu);
        } finally {
            slotsLock.unlock();
        }
    }

    void vcpuClosed(Vcpu vcpu) {
        vcpus.remove(vcpu.id(), vcpu);
    }

    /**
     * Performs one 8-byte guest store through the emulated MMU and returns 0, or -EFAULT when
     * {@code gpa} is in no memslot or its memory was unmapped. The whole access is one read
     * section of the memslots SRCU (what a grace period waits for); inside it, each attempt to
     * store runs in guest mode (what a TLB flush waits for), and a write-protected page exits
     * to the fault handler, which marks it dirty and maps it writable before the next attempt.
     */
    int guestWrite(Vcpu vcpu, long gpa, long value) {
        long gfn = gpa >>> KvmApi.PAGE_SHIFT;
        int idx = srcu.readLock();                                     // TLA+: VcpuEnterSrcu(v)
        try {
            Memslots slots = memslots;
            Memslot slot = slots.lookup(gfn);                          // TLA+: VcpuLookupSlot(v)
            if (slot == null) {
                return Errno.EFAULT.kernelReturn();
            }
            long page = gfn - slot.baseGfn();
            long offset = (page << KvmApi.PAGE_SHIFT) | (gpa & (KvmApi.PAGE_SIZE - 1));
            while (true) {
                int mode = guestMode.readLock();
                try {
                    if (hooks.isWritable(vcpu, slot, page)) {
                        if (widenFlushWindow) {
                            LockSupport.parkNanos(FLUSH_WINDOW_NANOS);
                        }
                        // Native memory: the guest store into the slot's user memory. TLA+: VcpuStore(v)
                        slot.memory().set(GUEST_LONG, offset, value);
                        break;
                    }
                } catch (IllegalStateException unmapped) {
                    return Errno.EFAULT.kernelReturn();
                } finally {
                    guestMode.readUnlock(mode);
                }
                // A write fault is an exit: handled in the host, outside guest mode, so a TLB
                // flush does not wait for it; only the memslots grace period does.
                if (!slot.memory().scope().isAlive()) {
                    return Errno.EFAULT.kernelReturn();                 // gfn_to_pfn: hva unmapped
                }
                writeFault(vcpu, slot, page);                          // TLA+: VcpuWriteFault(v)
            }
            if (slots.isFreed()) {
                useAfterFree.increment();
            }
            return 0;
        } finally {
            srcu.readUnlock(idx);                                      // TLA+: VcpuExitSrcu(v)
        }
    }

    /** Marks {@code gfn} dirty in its memslot, if logged; returns 0 or -EFAULT. See {@link Vcpu#markPageDirty(long)}. */
    int markPageDirty(Vcpu vcpu, long gfn) {
        int idx = srcu.readLock();                                     // TLA+: VcpuEnterSrcu(v)
        try {
            Memslots slots = memslots;
            if (!markGfnDirty(vcpu, slots, gfn)) {
                return Errno.EFAULT.kernelReturn();
            }
            if (slots.isFreed()) {
                useAfterFree.increment();
            }
            return 0;
        } finally {
            srcu.readUnlock(idx);                                      // TLA+: VcpuExitSrcu(v)
        }
    }

    /**
     * Marks the first {@code count} frames of {@code gfns} dirty inside one SRCU read section;
     * returns 0, or -EFAULT at the first frame in no memslot (the ones before it are marked).
     * See {@link Vcpu#markPagesDirty(long[], int)}.
     */
    int markPagesDirty(Vcpu vcpu, long[] gfns, int count) {
        int idx = srcu.readLock();                                     // TLA+: VcpuEnterSrcu(v)
        try {
            Memslots slots = memslots;
            int i = 0;
            while (i < count) {
                Memslot slot = slots.lookup(gfns[i]);                  // TLA+: VcpuLookupSlot(v)
                if (slot == null) {
                    return Errno.EFAULT.kernelReturn();
                }
                // A log's entries cluster: mark the whole run that stays in this slot at once.
                int end = i + 1;
                while (end < count && slot.contains(gfns[end])) {
                    end++;
                }
                if (slot.dirtyLogged()) {
                    try {
                        hooks.markPagesDirty(vcpu, slot, gfns, i, end);
                    } catch (IllegalStateException freed) {
                        useAfterFree.increment();
                    }
                }
                i = end;
            }
            if (slots.isFreed()) {
                useAfterFree.increment();
            }
            return 0;
        } finally {
            srcu.readUnlock(idx);                                      // TLA+: VcpuExitSrcu(v)
        }
    }

    /** Marks {@code gfn} dirty if its memslot in {@code slots} is logged; returns false when no memslot holds it. */
    private boolean markGfnDirty(Vcpu vcpu, Memslots slots, long gfn) {
        Memslot slot = slots.lookup(gfn);                              // TLA+: VcpuLookupSlot(v)
        if (slot == null) {
            return false;
        }
        markIfLogged(vcpu, slot, gfn - slot.baseGfn());
        return true;
    }

    /** Marks {@code page} dirty if {@code slot} is logged, counting a use of a freed bitmap instead of crashing. */
    private void markIfLogged(Vcpu vcpu, Memslot slot, long page) {
        if (slot.dirtyLogged()) {
            try {
                hooks.markPageDirty(vcpu, slot, page);
            } catch (IllegalStateException freed) {
                useAfterFree.increment();
            }
        }
    }

    private void writeFault(Vcpu vcpu, Memslot slot, long page) {
        markIfLogged(vcpu, slot, page);
        hooks.makeWritable(vcpu, slot, page);
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
        toClose.forEach(Vcpu::close);
        slotsLock.lock();
        try {
            Memslots old = replace(new Memslots(slotLimit));
            for (Memslot slot : old.slots()) {
                unexportPair(slot);
                slot.arch().close();
                freePair(slot);
            }
            for (int id = 0; id < slotLimit; id++) {
                freeRetained(id);
            }
            userMemory.close();
        } finally {
            slotsLock.unlock();
        }
    }
}
