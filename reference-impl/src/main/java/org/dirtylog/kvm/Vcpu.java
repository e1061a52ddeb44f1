package org.dirtylog.kvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.SplittableRandom;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.RandomWrites;
import org.dirtylog.spi.RandomWriter;
import org.dirtylog.spi.UserMemory;
import org.dirtylog.spi.VcpuExit;
import org.dirtylog.spi.VcpuRun;

/**
 * A virtual CPU ({@code struct kvm_vcpu}) and the guest write path: stores through the VM's
 * emulated MMU on the calling thread ({@link #runWrites(List)}) or on a thread of its own
 * ({@link #startRandomWrites(RandomWrites)}, the selftest guest), and the exit handlers that
 * mark pages dirty without storing ({@link #markPageDirty(long)}, {@link #markPagesDirty(long[], int)}).
 *
 * <p>The vCPU's monitor ({@code vcpu->mutex}) keeps one thing running at a time: a batch of
 * writes, or the random writer. Guest accesses never take a lock: they run inside read
 * sections of the memslots SRCU and of guest mode, which grace periods and TLB flushes wait for.
 */
public final class Vcpu implements BackendVcpu {

    private static final int PUBLISH_EVERY = 256;
    private static final ValueLayout.OfLong GUEST_LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final IoctlResult<Integer> OK = IoctlResult.ok(0);
    private static final IoctlResult<Integer> EFAULT = IoctlResult.err(Errno.EFAULT);
    private static final IoctlResult<Integer> EINVAL = IoctlResult.err(Errno.EINVAL);

    private final Vm vm;
    private final ArchHooks hooks;
    private final DirtyLog dirtyLog;
    private final int id;
    private final Object arch;
    /** {@code vcpu->dirty_ring}: null unless the ring was enabled before this vCPU was created. */
    private final DirtyRing ring;
    private Writer writer;
    private boolean closed;

    /** How one guest store ended. */
    private enum Store {
        /** The store retired. */
        DONE,
        /** The gpa is in no memslot or its memory is unmapped (-EFAULT). */
        FAULT,
        /**
         * The write fault pushed into the ring and left it soft-full: the vCPU exits with
         * {@code KVM_EXIT_DIRTY_RING_FULL} before re-entering the guest, so the store has not
         * retired and is re-executed on the next entry.
         */
        RING_FULL
    }

    Vcpu(Vm vm, ArchHooks hooks, DirtyLog dirtyLog, int id, Object arch, DirtyRing ring) {
        this.vm = vm;
        this.hooks = hooks;
        this.dirtyLog = dirtyLog;
        this.id = id;
        this.arch = arch;
        this.ring = ring;
    }

    /** Returns this vCPU's dirty ring, or null when the VM's ring was not enabled at its creation. */
    public DirtyRing dirtyRing() {
        return ring;
    }

    @Override
    public int id() {
        return id;
    }

    /** Returns the architecture's per-vCPU state. */
    public Object arch() {
        return arch;
    }

    /**
     * Performs every write in order and returns how many were performed.
     * Errors: -EBADF (closed), -EBUSY (random writes are running), -EFAULT (a gpa in no memslot,
     * or its memory unmapped; the writes before it were done), -ENOSPC (the dirty ring is or
     * became soft-full: this caller cannot harvest; {@link #runWritesUntilExit} reports the exit).
     */
    @Override
    public synchronized IoctlResult<Integer> runWrites(List<GuestWrite> writes) {
        IoctlResult<VcpuRun> run = runWritesUntilExit(writes);
        if (run.isOk() && run.value().exit() == VcpuExit.DIRTY_RING_FULL) {
            return IoctlResult.err(Errno.ENOSPC);
        }
        return run.map(VcpuRun::writes);
    }

    /**
     * Performs the writes in order until all are done or the vCPU exits with
     * {@code KVM_EXIT_DIRTY_RING_FULL}, and returns how many retired and why it returned. A run
     * that starts with the ring soft-full does no write ({@code kvm_dirty_ring_check_request},
     * cf87ac73); a store whose write fault made the ring soft-full has not retired.
     * Errors: as {@link #runWrites}, without -ENOSPC. TLA+: VcpuEnter, then VcpuStore /
     * PushAndCheck per write.
     */
    @Override
    public synchronized IoctlResult<VcpuRun> runWritesUntilExit(List<GuestWrite> writes) {
        if (closed) {
            return IoctlResult.err(Errno.EBADF);
        }
        if (writer != null && writer.thread.isAlive()) {
            return IoctlResult.err(Errno.EBUSY);
        }
        if (ring != null && ring.softFull()) {                         // TLA+: VcpuEnter(v), refused
            return IoctlResult.ok(new VcpuRun(0, VcpuExit.DIRTY_RING_FULL));
        }
        int done = 0;
        for (GuestWrite w : writes) {
            Store store = guestWrite(w.gpa(), w.value());
            if (store == Store.FAULT) {
                return IoctlResult.err(Errno.EFAULT);
            }
            if (store == Store.RING_FULL) {
                return IoctlResult.ok(new VcpuRun(done, VcpuExit.DIRTY_RING_FULL));
            }
            done++;
        }
        return IoctlResult.ok(new VcpuRun(done, VcpuExit.DONE));
    }

    /**
     * {@code mmap} of this vCPU's fd at {@code KVM_DIRTY_LOG_PAGE_OFFSET} ({@code kvm_vcpu_mmap}):
     * returns the ring's memory, shared with the vCPU (read-only without {@code PROT_WRITE}); every
     * mapping shows the same entries and lives until the vCPU is closed.
     * Errors in check order: -EBADF (closed), -EINVAL (no ring: nothing at that offset),
     * -EINVAL ({@code MAP_PRIVATE}, or not {@code MAP_SHARED}), -EINVAL ({@code PROT_EXEC}, or
     * another unknown bit), -EINVAL ({@code length} 0, not a multiple of the page size, or larger
     * than the ring: the kernel would raise SIGBUS on access past the ring).
     */
    @Override
    public IoctlResult<UserMemory> mmapDirtyRing(long length, int prot, int flags) {
        synchronized (this) {
            if (closed) {
                return IoctlResult.err(Errno.EBADF);
            }
        }
        if (ring == null) {
            return IoctlResult.err(Errno.EINVAL);
        }
        if ((flags & KvmApi.MAP_PRIVATE) != 0 || (flags & KvmApi.MAP_SHARED) == 0) {
            return IoctlResult.err(Errno.EINVAL);
        }
        if ((prot & ~(KvmApi.PROT_READ | KvmApi.PROT_WRITE)) != 0) {
            return IoctlResult.err(Errno.EINVAL);
        }
        if (length <= 0 || length % KvmApi.PAGE_SIZE != 0 || length > ring.memory().byteSize()) {
            return IoctlResult.err(Errno.EINVAL);
        }
        MemorySegment mapped = ring.memory().asSlice(0, length);
        if ((prot & KvmApi.PROT_WRITE) == 0) {
            mapped = mapped.asReadOnly();
        }
        return IoctlResult.ok(new UserMemory(mapped.address(), mapped));
    }

    /**
     * Returns 0 once every vCPU that was in guest mode at the call has left it: a store this vCPU
     * completed before the call has then retired, and its entry was pushed before it (a fault
     * pushes synchronously; the reference has no CPU log buffer). A batch or writer goes on.
     * TLA+: Kick.
     */
    @Override
    public IoctlResult<Integer> kick() {
        vm.guestMode.synchronizeExpedited();
        return OK;
    }

    /**
     * Marks guest frame {@code gfn} dirty the way a vCPU-side exit handler does
     * ({@code kvm_vcpu_mark_page_dirty}): inside an SRCU read section, looks up its memslot
     * and, if the slot is logged, marks the page. Returns 0, or -EFAULT when no memslot holds
     * {@code gfn}. Stores nothing and changes no mapping; allocates nothing.
     */
    public IoctlResult<Integer> markPageDirty(long gfn) {
        int idx = vm.srcu.readLock();                                  // TLA+: VcpuEnterSrcu(v)
        try {
            Memslots slots = vm.memslots();
            Memslot slot = slots.lookup(gfn);                          // TLA+: VcpuLookupSlot(v)
            if (slot == null) {
                return EFAULT;
            }
            dirtyLog.markPageDirtyInSlot(this, slot, gfn - slot.baseGfn());
            countIfFreed(slots);
            return OK;
        } finally {
            vm.srcu.readUnlock(idx);                                   // TLA+: VcpuExitSrcu(v)
        }
    }

    /**
     * Marks the first {@code count} frames of {@code gfns} dirty inside one SRCU read section, as
     * KVM does when it empties a vCPU's page-modification log on a PML-full exit
     * ({@code kvm_flush_pml_buffer}: up to 512 entries per exit): each run of frames in one
     * memslot is looked up once and marked in one hook call. Returns 0, -EINVAL when
     * {@code count} is outside {@code [0, gfns.length]}, or -EFAULT at the first frame in no
     * memslot (the frames before it are marked). Stores nothing.
     */
    public IoctlResult<Integer> markPagesDirty(long[] gfns, int count) {
        if (count < 0 || count > gfns.length) {
            return EINVAL;
        }
        int idx = vm.srcu.readLock();                                  // TLA+: VcpuEnterSrcu(v)
        try {
            Memslots slots = vm.memslots();
            int i = 0;
            while (i < count) {
                Memslot slot = slots.lookup(gfns[i]);                  // TLA+: VcpuLookupSlot(v)
                if (slot == null) {
                    return EFAULT;
                }
                int end = i + 1;
                while (end < count && slot.contains(gfns[end])) {
                    end++;
                }
                dirtyLog.markPagesDirtyInSlot(this, slot, gfns, i, end);
                i = end;
            }
            countIfFreed(slots);
            return OK;
        } finally {
            vm.srcu.readUnlock(idx);                                   // TLA+: VcpuExitSrcu(v)
        }
    }

    /**
     * Starts a thread that stores {@code writes.iteration()} into the first 8 bytes of
     * pseudo-random pages of the range until stopped, and returns its handle. With a ring, the
     * thread waits out of guest mode after a ring-full exit until resumed or stopped.
     * Errors: -EBADF (closed), -EBUSY (already running).
     */
    @Override
    public IoctlResult<RandomWriter> startRandomWrites(RandomWrites writes) {
        return start(writes, false);
    }

    /**
     * Starts a thread that stores {@code writes.iteration()} into the first 8 bytes of pages
     * {@code 0, 1, ..., pages - 1} of the range in order, over and over, until stopped, and returns
     * its handle: the densest writer, a write fault on every store of a freshly armed range.
     * Errors: as {@link #startRandomWrites}.
     */
    @Override
    public IoctlResult<RandomWriter> startSequentialWrites(RandomWrites writes) {
        return start(writes, true);
    }

    private synchronized IoctlResult<RandomWriter> start(RandomWrites writes, boolean sequential) {
        if (closed) {
            return IoctlResult.err(Errno.EBADF);
        }
        if (writer != null && writer.thread.isAlive()) {
            return IoctlResult.err(Errno.EBUSY);
        }
        writer = new Writer(writes, sequential);
        writer.thread.start();
        return IoctlResult.ok(writer);
    }

    /** Stops random writes, if any, and releases the vCPU. Idempotent. */
    @Override
    public void close() {
        Writer running;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            running = writer;
        }
        if (running != null) {
            running.stop();
        }
        vm.vcpuClosed(this);
    }

    /**
     * Performs one 8-byte guest store through the emulated MMU and returns how it ended:
     * {@link Store#DONE}, {@link Store#FAULT} when {@code gpa} is in no memslot or its memory was
     * unmapped, {@link Store#RING_FULL} when the write fault left the dirty ring soft-full (the
     * store is not done). The whole access is one read
     * section of the memslots SRCU (what a grace period waits for); inside it, each attempt to
     * store runs in guest mode (what a TLB flush waits for), and a write-protected page exits
     * to the fault handler, which maps it writable and marks it dirty before the next attempt.
     */
    private Store guestWrite(long gpa, long value) {
        long gfn = gpa >>> KvmApi.PAGE_SHIFT;
        int idx = vm.srcu.readLock();                                  // TLA+: VcpuEnterSrcu(v)
        try {
            Memslots slots = vm.memslots();
            Memslot slot = slots.lookup(gfn);                          // TLA+: VcpuLookupSlot(v)
            if (slot == null) {
                return Store.FAULT;
            }
            long page = gfn - slot.baseGfn();
            long offset = (page << KvmApi.PAGE_SHIFT) | (gpa & (KvmApi.PAGE_SIZE - 1));
            while (true) {
                int mode = vm.guestMode.readLock();
                try {
                    if (hooks.isWritable(this, slot, page)) {
                        // Native memory: the guest store into the slot's user memory. TLA+: VcpuStore(v)
                        slot.memory().set(GUEST_LONG, offset, value);
                        break;
                    }
                } catch (IllegalStateException unmapped) {
                    return Store.FAULT;
                } finally {
                    vm.guestMode.readUnlock(mode);
                }
                // A write fault is an exit: handled in the host, outside guest mode, so a TLB
                // flush does not wait for it; only the memslots grace period does.
                if (!slot.memory().scope().isAlive()) {
                    return Store.FAULT;                                // gfn_to_pfn: hva unmapped
                }
                // Marked, writable, marked again where CLEAR re-arms page by page; with a ring,
                // pushed and mapped under the MMU lock the reset re-arms under (DirtyLog.writeFault
                // says why either is needed against a racing CLEAR or ring reset).
                dirtyLog.writeFault(this, slot, page);                 // TLA+: VcpuWriteFault(v) / PushAndCheck(v)
                if (ring != null && ring.softFull()) {
                    countIfFreed(slots);
                    return Store.RING_FULL;                            // TLA+: PushAndCheck(v), the exit
                }
            }
            countIfFreed(slots);
            return Store.DONE;
        } finally {
            vm.srcu.readUnlock(idx);                                   // TLA+: VcpuExitSrcu(v)
        }
    }

    /** Counts a use after free when the memslots array this read section used was freed under it. */
    private void countIfFreed(Memslots slots) {
        if (slots.isFreed()) {
            vm.countUseAfterFree();
        }
    }

    private final class Writer implements RandomWriter {
        private final RandomWrites writes;
        private final boolean sequential;
        private final Thread thread;
        /** Guards the ring-full handshake between this writer's thread and its caller. */
        private final Object exitLock = new Object();
        private volatile boolean stopRequested;
        private volatile long completed;
        private volatile Errno error;
        private boolean ringFull;
        private long ringFullExits;

        Writer(RandomWrites writes, boolean sequential) {
            this.writes = writes;
            this.sequential = sequential;
            this.thread = Thread.ofPlatform().daemon().name("vcpu-" + id).unstarted(this::run);
        }

        private void run() {
            SplittableRandom random = new SplittableRandom(writes.seed());
            long done = 0;
            long next = 0;
            long pending = -1;
            do {
                long page = pending >= 0 ? pending : sequential ? next : random.nextLong(writes.pages());
                pending = -1;
                Store store = guestWrite(writes.firstGpa() + page * KvmApi.PAGE_SIZE, writes.iteration());
                if (store == Store.FAULT) {
                    error = Errno.EFAULT;
                    break;
                }
                if (store == Store.RING_FULL) {
                    completed = done;
                    if (!waitForResume()) {
                        break;
                    }
                    // KVM_RUN again: the store that faulted is executed again (TLA+: VcpuEnter(v)).
                    pending = page;
                    continue;
                }
                next = page + 1 == writes.pages() ? 0 : page + 1;
                if (++done % PUBLISH_EVERY == 0) {
                    completed = done;
                }
                if (vm.vcpusAwaited()) {
                    // cond_resched() outside the read sections: on an oversubscribed machine a
                    // waiting grace period must not be held up by this thread's time slice.
                    Thread.yield();
                }
            } while (!stopRequested);
            completed = done;
        }

        /**
         * vCPU thread after {@code KVM_EXIT_DIRTY_RING_FULL}: waits out of guest mode (outside every
         * read section) until {@link #resume()} found the ring below its soft limit (returns true)
         * or the writer is stopped (false).
         */
        private boolean waitForResume() {
            synchronized (exitLock) {
                ringFull = true;
                ringFullExits++;
                boolean interrupted = false;
                while (ringFull && !stopRequested) {
                    try {
                        exitLock.wait();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
                ringFull = false;
                return !stopRequested;
            }
        }

        @Override
        public long writesSoFar() {
            return completed;
        }

        @Override
        public boolean ringFull() {
            synchronized (exitLock) {
                return ringFull;
            }
        }

        /**
         * {@code KVM_RUN} after a ring-full exit: returns 0; the writer goes on if the ring is now
         * below its soft limit, else it exits again at once and stays ring-full ({@code VcpuEnter}
         * refused, cf87ac73). Errors: -EINVAL when the writer is not waiting on a full ring.
         */
        @Override
        public IoctlResult<Integer> resume() {
            synchronized (exitLock) {
                if (!ringFull || stopRequested) {
                    return EINVAL;
                }
                if (ring.softFull()) {                                 // TLA+: VcpuEnter(v) refused
                    ringFullExits++;
                    return OK;
                }
                ringFull = false;                                      // TLA+: VcpuEnter(v)
                exitLock.notifyAll();
                return OK;
            }
        }

        @Override
        public long ringFullExits() {
            synchronized (exitLock) {
                return ringFullExits;
            }
        }

        @Override
        public IoctlResult<Long> stop() {
            stopRequested = true;
            synchronized (exitLock) {
                exitLock.notifyAll();
            }
            boolean interrupted = false;
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            Errno failed = error;
            return failed != null ? IoctlResult.err(failed) : IoctlResult.ok(completed);
        }
    }
}
