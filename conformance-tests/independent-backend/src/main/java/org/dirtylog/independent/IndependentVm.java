package org.dirtylog.independent;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
 * A VM of {@link IndependentBackend}.
 *
 * <p>Locking: the slots lock serialises every ioctl that reads or changes memslots (harvests
 * included). vCPUs never take a lock: they read memslots in guest mode, and a memslot change
 * first stops them ({@link #stopVcpus()}: raise {@code updating}, wait for each vCPU's section
 * in flight), changes the memslots in place, then lets them go. A harvest does not stop them;
 * it only waits for their sections in flight ({@link DirtyLogPaths}).
 */
final class IndependentVm implements BackendVm {

    private final DirtyLogPaths paths;
    private final UserMappings mappings = new UserMappings();
    private final ReentrantLock slotsLock = new ReentrantLock();
    /** By slot id; changed with the vCPUs stopped. */
    private final Memslot[] slots = new Memslot[IndependentBackend.MEMSLOTS];
    /** The existing memslots, for the vCPUs' lookups; replaced with the vCPUs stopped. */
    private Memslot[] present = new Memslot[0];
    /** By vCPU id; replaced (copy on write) under the slots lock. */
    private volatile IndependentVcpu[] vcpus = new IndependentVcpu[0];
    private volatile boolean updating;
    private volatile boolean closed;

    IndependentVm(DirtyLogPaths paths) {
        this.paths = paths;
    }

    DirtyLogPaths paths() {
        return paths;
    }

    /** Returns the vCPUs created so far. */
    IndependentVcpu[] vcpus() {
        return vcpus;
    }

    /** Returns the existing memslots; only in guest mode or under the slots lock. */
    Memslot[] memslots() {
        return present;
    }

    /** Returns the memslot holding {@code gpa}, or null; only in guest mode or under the slots lock. */
    Memslot memslotAt(long gpa) {
        for (Memslot s : present) {
            if (s.contains(gpa)) {
                return s;
            }
        }
        return null;
    }

    boolean updating() {
        return updating;
    }

    boolean closed() {
        return closed;
    }

    /** Waits, outside guest mode, until the memslot change in progress is over or the VM closed. */
    void awaitUpdate() {
        for (int spins = 0; updating && !closed; spins++) {
            if (spins < 100) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    /** Waits for every vCPU's guest-mode section in flight to end. */
    void waitForVcpus() {
        for (IndependentVcpu v : vcpus) {
            v.waitUntilOutsideGuestMode();
        }
    }

    /**
     * Stops every vCPU outside guest mode, for a change of memslots in place; under the slots
     * lock, undone by {@link #resumeVcpus()}.
     */
    private void stopVcpus() {
        // The volatile store then each vCPU's volatile mode load pair with enterGuestMode.
        updating = true;
        waitForVcpus();
    }

    /** Lets the vCPUs run again on the changed memslots, with their TLBs emptied. */
    private void resumeVcpus() {
        List<Memslot> now = new ArrayList<>();
        for (Memslot s : slots) {
            if (s != null) {
                now.add(s);
            }
        }
        present = now.toArray(new Memslot[0]);
        for (IndependentVcpu v : vcpus) {
            v.tlb = null;
        }
        updating = false;
    }

    @Override
    public IoctlResult<Integer> checkExtension(long capability) {
        if (capability == KvmApi.KVM_CAP_USER_DIRTY_LOG) {
            return IoctlResult.ok(IndependentBackend.USER_DIRTY_LOG_GENERATION);
        }
        if (capability == KvmApi.KVM_CAP_NR_MEMSLOTS) {
            return IoctlResult.ok(IndependentBackend.MEMSLOTS);
        }
        return IoctlResult.ok(0);
    }

    /** Maps zeroed user memory. Errors: {@code -EINVAL} (length not a positive page multiple), {@code -ENOMEM}. */
    @Override
    public IoctlResult<UserMemory> mmap(long length) {
        if (length <= 0 || length % KvmApi.PAGE_SIZE != 0) {
            return IoctlResult.err(Errno.EINVAL);
        }
        MemorySegment segment = mappings.map(length, false);
        return segment == null ? IoctlResult.err(Errno.ENOMEM) : IoctlResult.ok(new UserMemory(segment.address(), segment));
    }

    /**
     * Unmaps memory {@link #mmap(long)} returned. Errors: {@code -EINVAL} (not such a mapping),
     * {@code -EBUSY} (a memslot uses it).
     */
    @Override
    public IoctlResult<Integer> munmap(UserMemory memory) {
        slotsLock.lock();
        try {
            if (mappings.resolve(memory.address(), memory.length(), true) == null) {
                return IoctlResult.err(Errno.EINVAL);
            }
            long end = memory.address() + memory.length();
            for (Memslot s : present) {
                if (s.userspaceAddr < end && memory.address() < s.userspaceAddr + (s.npages << KvmApi.PAGE_SHIFT)) {
                    return IoctlResult.err(Errno.EBUSY);
                }
            }
            return mappings.unmap(memory.address(), false) ? IoctlResult.ok(0) : IoctlResult.err(Errno.EINVAL);
        } finally {
            slotsLock.unlock();
        }
    }

    /** Returns the user memory at {@code address}. Errors: {@code -EFAULT} when any byte is not mapped. */
    @Override
    public IoctlResult<MemorySegment> accessUser(long address, long length) {
        MemorySegment s = mappings.resolve(address, length, false);
        return s != null ? IoctlResult.ok(s) : IoctlResult.err(Errno.EFAULT);
    }

    /** Returns the memslot index of a slot id (address space 0 only), or -1 when it is out of range. */
    private static int index(int slot) {
        return (slot >>> KvmApi.ADDRESS_SPACE_SHIFT) == 0 && (slot & 0xffff) < IndependentBackend.MEMSLOTS
                ? slot & 0xffff : -1;
    }

    /**
     * {@code KVM_SET_USER_MEMORY_REGION} ({@code __kvm_set_memory_region}). Errors in check
     * order: {@code -EINVAL} (slot id, unknown flag, unaligned or negative size, unaligned gpa
     * or user address, a guest range past {@link IndependentBackend#GPA_LIMIT}, deleting a slot
     * that does not exist, a size or user address change, a user range that is not mapped
     * memory), {@code -EEXIST} (overlap with another slot), {@code -ENOMEM} (no room for the
     * bitmaps). A failed call changes nothing. TLA+: LogOn, LogOff.
     */
    @Override
    public IoctlResult<Integer> setUserMemoryRegion(MemoryRegion r) {
        int id = index(r.slot());
        long size = r.memorySize();
        if (id < 0 || (r.flags() & ~KvmApi.KVM_MEM_LOG_DIRTY_PAGES) != 0 || size < 0 || size % KvmApi.PAGE_SIZE != 0
                || r.guestPhysAddr() % KvmApi.PAGE_SIZE != 0 || r.userspaceAddr() % KvmApi.PAGE_SIZE != 0
                || r.guestPhysAddr() < 0 || r.guestPhysAddr() > IndependentBackend.GPA_LIMIT - size) {
            return IoctlResult.err(Errno.EINVAL);
        }
        long npages = KvmApi.pages(size);
        slotsLock.lock();
        try {
            if (closed) {
                return IoctlResult.err(Errno.EIO);
            }
            Memslot old = slots[id];
            if (size == 0) {
                if (old == null) {
                    return IoctlResult.err(Errno.EINVAL);
                }
                deleteMemslot(old);
                return IoctlResult.ok(0);
            }
            MemorySegment memory = null;
            if (old != null) {
                if (old.npages != npages || old.userspaceAddr != r.userspaceAddr()) {
                    return IoctlResult.err(Errno.EINVAL);
                }
            } else {
                memory = mappings.resolve(r.userspaceAddr(), size, true);
                if (memory == null) {
                    return IoctlResult.err(Errno.EINVAL);
                }
            }
            for (Memslot s : present) {
                if (s.id != id && s.overlaps(r.guestPhysAddr(), npages)) {
                    return IoctlResult.err(Errno.EEXIST);
                }
            }
            if (old == null) {
                return createMemslot(new Memslot(id, r.guestPhysAddr(), npages, r.flags(), r.userspaceAddr(), memory));
            }
            return changeMemslot(old, r.guestPhysAddr(), r.flags());
        } finally {
            slotsLock.unlock();
        }
    }

    private IoctlResult<Integer> createMemslot(Memslot slot) {
        DirtyBitmap[] fresh = slot.logging() ? mapBitmaps(slot) : null;
        if (slot.logging() && fresh == null) {
            return IoctlResult.err(Errno.ENOMEM);
        }
        stopVcpus();
        if (fresh != null) {
            slot.startLogging(fresh[0], fresh[1], IndependentBackend.MAX_VCPUS);
        }
        slots[slot.id] = slot;
        resumeVcpus();
        return IoctlResult.ok(0);
    }

    /** Moves and/or re-flags {@code slot}; an identical request changes nothing, pending marks included. */
    private IoctlResult<Integer> changeMemslot(Memslot slot, long gpa, int flags) {
        boolean wasLogging = slot.logging();
        boolean logging = (flags & KvmApi.KVM_MEM_LOG_DIRTY_PAGES) != 0;
        if (gpa == slot.gpa && flags == slot.flags) {
            return IoctlResult.ok(0);
        }
        DirtyBitmap[] fresh = logging && !wasLogging ? mapBitmaps(slot) : null;
        if (logging && !wasLogging && fresh == null) {
            return IoctlResult.err(Errno.ENOMEM);
        }
        stopVcpus();
        if (fresh != null) {
            // b64d740e: logging switched on write-protects every page on every vCPU (fresh state).
            slot.startLogging(fresh[0], fresh[1], IndependentBackend.MAX_VCPUS);
        } else if (wasLogging && !logging) {
            unmapBitmaps(slot);
            slot.stopLogging();
        } else if (logging && gpa != slot.gpa) {
            // A move zaps the shadow PTEs of the old range; the bitmaps and pending marks stay.
            for (VcpuDirtyLog log : slot.vcpuLogs) {
                log.writeProtectAll();
            }
        }
        slot.gpa = gpa;
        slot.flags = flags;
        resumeVcpus();
        return IoctlResult.ok(0);
    }

    private void deleteMemslot(Memslot slot) {
        stopVcpus();
        slots[slot.id] = null;
        if (slot.logging()) {
            unmapBitmaps(slot);
            slot.stopLogging();
        }
        resumeVcpus();
    }

    /** Maps two zeroed bitmaps for {@code slot} as kernel mappings; returns null when memory is short. */
    private DirtyBitmap[] mapBitmaps(Memslot slot) {
        long bytes = KvmApi.dirtyBitmapBytes(slot.npages);
        long length = Math.max(KvmApi.PAGE_SIZE, (bytes + KvmApi.PAGE_SIZE - 1) & -KvmApi.PAGE_SIZE);
        MemorySegment first = mappings.map(length, true);
        MemorySegment second = first == null ? null : mappings.map(length, true);
        if (second == null) {
            if (first != null) {
                mappings.unmap(first.address(), true);
            }
            return null;
        }
        return new DirtyBitmap[] {new DirtyBitmap(first, slot.bitmapWords()), new DirtyBitmap(second, slot.bitmapWords())};
    }

    private void unmapBitmaps(Memslot slot) {
        for (DirtyBitmap b : slot.bitmaps) {
            mappings.unmap(b.address(), true);
        }
    }

    /** Returns the logged memslot of slot id {@code slot}. Errors in check order: {@code -EINVAL}, {@code -ENOENT}. */
    private IoctlResult<Memslot> loggedMemslot(int slot) {
        int id = index(slot);
        if (id < 0) {
            return IoctlResult.err(Errno.EINVAL);
        }
        Memslot m = slots[id];
        return m == null || !m.logging() ? IoctlResult.err(Errno.ENOENT) : IoctlResult.ok(m);
    }

    /**
     * {@code KVM_GET_DIRTY_LOG}: copies the pages dirtied since the last harvest of the slot
     * into the user buffer and starts the next interval; on this backend it switches the two RFC
     * bitmaps, as RFC 4.40 allows. Returns 0. Errors in check order: {@code -EINVAL} (slot id),
     * {@code -ENOENT} (no slot or logging off), {@code -EFAULT} (buffer not mapped; nothing is
     * harvested then). TLA+: HarvestBegin ... CopyToUser.
     */
    @Override
    public IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap) {
        slotsLock.lock();
        try {
            IoctlResult<Memslot> m = loggedMemslot(slot);
            if (!m.isOk()) {
                return IoctlResult.err(m.errnoOrNull());
            }
            Memslot memslot = m.value();
            MemorySegment out = mappings.resolve(dirtyBitmap, KvmApi.dirtyBitmapBytes(memslot.npages), false);
            if (out == null) {
                return IoctlResult.err(Errno.EFAULT);
            }
            return IoctlResult.ok(paths.harvest(this, memslot, out));
        } finally {
            slotsLock.unlock();
        }
    }

    /**
     * {@code KVM_GET_USER_DIRTY_LOG_ADDR} (RFC 4.39): fills in the addresses of the slot's
     * active and cold bitmaps. Returns 0. Errors in check order: {@code -EFAULT} (argument not
     * mapped), {@code -EINVAL} (slot id), {@code -ENOENT} (no slot or logging off).
     */
    @Override
    public IoctlResult<Integer> getUserDirtyLogAddr(long argp) {
        MemorySegment arg = mappings.resolve(argp, KvmApi.USER_DIRTY_LOG_SIZE, false);
        if (arg == null) {
            return IoctlResult.err(Errno.EFAULT);
        }
        UserDirtyLog in = UserDirtyLog.readFrom(arg);
        slotsLock.lock();
        try {
            IoctlResult<Memslot> m = loggedMemslot(in.slot());
            if (!m.isOk()) {
                return IoctlResult.err(m.errnoOrNull());
            }
            Memslot memslot = m.value();
            new UserDirtyLog(in.slot(), in.flags(), memslot.activeBitmap().address(), memslot.coldBitmap().address())
                    .writeTo(arg);
            return IoctlResult.ok(0);
        } finally {
            slotsLock.unlock();
        }
    }

    /**
     * {@code KVM_SWITCH_DIRTY_LOG} (RFC 4.40): returns 0 after switching, 1 when the slot was
     * clean. Errors in check order: {@code -EINVAL} (slot id), {@code -ENOENT} (no slot or
     * logging off). TLA+: HarvestBegin ... GracePeriod.
     */
    @Override
    public IoctlResult<Integer> switchDirtyLog(int slot) {
        slotsLock.lock();
        try {
            IoctlResult<Memslot> m = loggedMemslot(slot);
            if (!m.isOk()) {
                return IoctlResult.err(m.errnoOrNull());
            }
            return IoctlResult.ok(paths.harvest(this, m.value(), null));
        } finally {
            slotsLock.unlock();
        }
    }

    /** {@code KVM_CREATE_VCPU}. Errors: {@code -EINVAL} (id out of range), {@code -EEXIST}, {@code -EIO} (VM closed). */
    @Override
    public IoctlResult<BackendVcpu> createVcpu(int id) {
        if (id < 0 || id >= IndependentBackend.MAX_VCPUS) {
            return IoctlResult.err(Errno.EINVAL);
        }
        slotsLock.lock();
        try {
            if (closed) {
                return IoctlResult.err(Errno.EIO);
            }
            for (IndependentVcpu v : vcpus) {
                if (v.id == id) {
                    return IoctlResult.err(Errno.EEXIST);
                }
            }
            IndependentVcpu vcpu = new IndependentVcpu(id, this);
            IndependentVcpu[] more = Arrays.copyOf(vcpus, vcpus.length + 1);
            more[more.length - 1] = vcpu;
            vcpus = more;
            return IoctlResult.ok(vcpu);
        } finally {
            slotsLock.unlock();
        }
    }

    /** Stops every vCPU for good and frees all memory. Idempotent; never throws. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (IndependentVcpu v : vcpus) {
            v.close();
        }
        updating = true;
        waitForVcpus();
        mappings.close();
    }
}
