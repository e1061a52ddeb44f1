package org.dirtylog.example;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserMemory;

/**
 * A VM of {@link MinimalBackend}. "User memory" is native memory of a shared arena; its
 * addresses are the real native addresses, so they are unique and never 0. Every method that
 * reads or changes memslots, bitmaps or guest memory holds the VM's monitor.
 */
final class MinimalVm implements BackendVm {

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** A memslot: its region, backing memory and, while logging is on, its dirty bitmap. */
    private static final class Memslot {
        final int id;
        long gpa;
        final long npages;
        int flags;
        final long userspaceAddr;
        final MemorySegment memory;
        long[] dirtyBitmap;

        Memslot(MemoryRegion r, MemorySegment memory) {
            this.id = r.slot();
            this.gpa = r.guestPhysAddr();
            this.npages = r.npages();
            this.flags = r.flags();
            this.userspaceAddr = r.userspaceAddr();
            this.memory = memory;
            this.dirtyBitmap = logging(r.flags()) ? newBitmap(npages) : null;
        }

        boolean contains(long gpa) {
            return gpa >= this.gpa && gpa < this.gpa + npages * KvmApi.PAGE_SIZE;
        }
    }

    private final Arena arena = Arena.ofShared();
    private final TreeMap<Long, MemorySegment> mappings = new TreeMap<>();
    private final Map<Integer, Memslot> memslots = new HashMap<>();
    private final Map<Integer, MinimalVcpu> vcpus = new HashMap<>();
    private boolean closed;

    private static boolean logging(int flags) {
        return (flags & KvmApi.KVM_MEM_LOG_DIRTY_PAGES) != 0;
    }

    private static long[] newBitmap(long npages) {
        return new long[(int) (KvmApi.dirtyBitmapBytes(npages) / 8)];
    }

    @Override
    public IoctlResult<Integer> checkExtension(long capability) {
        return IoctlResult.ok(capability == KvmApi.KVM_CAP_NR_MEMSLOTS ? MinimalBackend.MEMSLOTS : 0);
    }

    @Override
    public synchronized IoctlResult<UserMemory> mmap(long length) {
        if (length <= 0 || length % KvmApi.PAGE_SIZE != 0) {
            return IoctlResult.err(Errno.EINVAL);
        }
        MemorySegment segment = arena.allocate(length, KvmApi.PAGE_SIZE);
        mappings.put(segment.address(), segment);
        return IoctlResult.ok(new UserMemory(segment.address(), segment));
    }

    @Override
    public synchronized IoctlResult<Integer> munmap(UserMemory memory) {
        // The arena frees the bytes when the VM closes; unmapping only makes the range invalid.
        return mappings.remove(memory.address()) != null ? IoctlResult.ok(0) : IoctlResult.err(Errno.EINVAL);
    }

    @Override
    public synchronized IoctlResult<MemorySegment> accessUser(long address, long length) {
        MemorySegment s = mapped(address, length);
        return s != null ? IoctlResult.ok(s) : IoctlResult.err(Errno.EFAULT);
    }

    /** Returns the mapped bytes {@code [address, address + length)}, or null if any is not mapped. */
    private MemorySegment mapped(long address, long length) {
        Map.Entry<Long, MemorySegment> e = mappings.floorEntry(address);
        if (e == null || length < 0) {
            return null;
        }
        long offset = address - e.getKey();
        if (offset + length > e.getValue().byteSize()) {
            return null;
        }
        return e.getValue().asSlice(offset, length);
    }

    private static boolean validSlotId(int slot) {
        return slot >= 0 && slot < MinimalBackend.MEMSLOTS;
    }

    /**
     * {@code KVM_SET_USER_MEMORY_REGION}. Errors in the kernel's order: -EINVAL (slot id, flags,
     * alignment, unmapped user range, size or user address change, deleting a missing slot),
     * then -EEXIST (overlap with another slot).
     */
    @Override
    public synchronized IoctlResult<Integer> setUserMemoryRegion(MemoryRegion r) {
        if (!validSlotId(r.slot()) || (r.flags() & ~KvmApi.KVM_MEM_LOG_DIRTY_PAGES) != 0
                || r.memorySize() % KvmApi.PAGE_SIZE != 0 || r.guestPhysAddr() % KvmApi.PAGE_SIZE != 0
                || r.userspaceAddr() % KvmApi.PAGE_SIZE != 0 || r.memorySize() < 0) {
            return IoctlResult.err(Errno.EINVAL);
        }
        Memslot old = memslots.get(r.slot());
        if (r.memorySize() == 0) {
            if (old == null) {
                return IoctlResult.err(Errno.EINVAL);
            }
            memslots.remove(r.slot());
            return IoctlResult.ok(0);
        }
        MemorySegment memory = mapped(r.userspaceAddr(), r.memorySize());
        if (memory == null) {
            return IoctlResult.err(Errno.EINVAL);
        }
        if (old != null && (old.npages != r.npages() || old.userspaceAddr != r.userspaceAddr())) {
            return IoctlResult.err(Errno.EINVAL);
        }
        long end = r.guestPhysAddr() + r.memorySize();
        for (Memslot other : memslots.values()) {
            if (other.id != r.slot() && r.guestPhysAddr() < other.gpa + other.npages * KvmApi.PAGE_SIZE && other.gpa < end) {
                return IoctlResult.err(Errno.EEXIST);
            }
        }
        if (old == null) {
            memslots.put(r.slot(), new Memslot(r, memory));
            return IoctlResult.ok(0);
        }
        boolean wasLogging = logging(old.flags);
        old.gpa = r.guestPhysAddr();
        old.flags = r.flags();
        if (logging(r.flags()) != wasLogging) {
            // Logging switched on gets a fresh bitmap, switched off frees it; a move keeps it.
            old.dirtyBitmap = logging(r.flags()) ? newBitmap(old.npages) : null;
        }
        return IoctlResult.ok(0);
    }

    /**
     * {@code KVM_GET_DIRTY_LOG}: copies the bitmap out and clears it in one step under the VM
     * lock. Errors: -EINVAL (slot id), -ENOENT (no slot or logging off), -EFAULT (buffer); on
     * -EFAULT the bitmap is left as it was.
     */
    @Override
    public synchronized IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap) {
        if (!validSlotId(slot)) {
            return IoctlResult.err(Errno.EINVAL);
        }
        Memslot m = memslots.get(slot);
        if (m == null || m.dirtyBitmap == null) {
            return IoctlResult.err(Errno.ENOENT);
        }
        MemorySegment out = mapped(dirtyBitmap, m.dirtyBitmap.length * 8L);
        if (out == null) {
            return IoctlResult.err(Errno.EFAULT);
        }
        for (int i = 0; i < m.dirtyBitmap.length; i++) {
            out.set(LE_LONG, i * 8L, m.dirtyBitmap[i]);
            m.dirtyBitmap[i] = 0;
        }
        return IoctlResult.ok(0);
    }

    /** The RFC ioctls do not exist here (capability generation 0): {@code -ENOTTY}. */
    @Override
    public IoctlResult<Integer> getUserDirtyLogAddr(long argp) {
        return IoctlResult.err(Errno.ENOTTY);
    }

    /** The RFC ioctls do not exist here (capability generation 0): {@code -ENOTTY}. */
    @Override
    public IoctlResult<Integer> switchDirtyLog(int slot) {
        return IoctlResult.err(Errno.ENOTTY);
    }

    @Override
    public synchronized IoctlResult<BackendVcpu> createVcpu(int id) {
        if (id < 0 || id >= MinimalBackend.MAX_VCPUS) {
            return IoctlResult.err(Errno.EINVAL);
        }
        if (vcpus.containsKey(id)) {
            return IoctlResult.err(Errno.EEXIST);
        }
        MinimalVcpu vcpu = new MinimalVcpu(id, this);
        vcpus.put(id, vcpu);
        return IoctlResult.ok(vcpu);
    }

    /**
     * Performs one guest store: writes {@code value} at {@code gpa} and marks its page dirty in
     * the same critical section as a harvest's copy-and-clear. Returns false when no memslot
     * holds {@code gpa} (the guest would exit to user space with an MMIO access).
     */
    synchronized boolean guestWrite(long gpa, long value) {
        if (closed) {
            return false;
        }
        for (Memslot m : memslots.values()) {
            if (m.contains(gpa)) {
                long offset = gpa - m.gpa;
                m.memory.set(LE_LONG, offset, value);
                if (m.dirtyBitmap != null) {
                    long page = offset >>> KvmApi.PAGE_SHIFT;
                    m.dirtyBitmap[(int) (page >>> 6)] |= 1L << (page & 63);
                }
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        List<MinimalVcpu> toClose;
        synchronized (this) {
            if (closed) {
                return;
            }
            toClose = new ArrayList<>(vcpus.values());
        }
        // vCPU threads take the VM lock for every write: stop them before holding it for good.
        toClose.forEach(MinimalVcpu::close);
        synchronized (this) {
            closed = true;
            memslots.clear();
            mappings.clear();
            vcpus.clear();
        }
        arena.close();
    }
}
