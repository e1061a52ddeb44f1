package org.dirtylog.kvm;

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
    private Writer writer;
    private boolean closed;

    Vcpu(Vm vm, ArchHooks hooks, DirtyLog dirtyLog, int id, Object arch) {
        this.vm = vm;
        this.hooks = hooks;
        this.dirtyLog = dirtyLog;
        this.id = id;
        this.arch = arch;
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
     * or its memory unmapped; the writes before it were done).
     */
    @Override
    public synchronized IoctlResult<Integer> runWrites(List<GuestWrite> writes) {
        if (closed) {
            return IoctlResult.err(Errno.EBADF);
        }
        if (writer != null && writer.thread.isAlive()) {
            return IoctlResult.err(Errno.EBUSY);
        }
        for (GuestWrite w : writes) {
            Errno errno = guestWrite(w.gpa(), w.value());
            if (errno != null) {
                return IoctlResult.err(errno);
            }
        }
        return IoctlResult.ok(writes.size());
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
     * pseudo-random pages of the range until stopped, and returns its handle.
     * Errors: -EBADF (closed), -EBUSY (already running).
     */
    @Override
    public synchronized IoctlResult<RandomWriter> startRandomWrites(RandomWrites writes) {
        if (closed) {
            return IoctlResult.err(Errno.EBADF);
        }
        if (writer != null && writer.thread.isAlive()) {
            return IoctlResult.err(Errno.EBUSY);
        }
        writer = new Writer(writes);
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
     * Performs one 8-byte guest store through the emulated MMU and returns null, or -EFAULT when
     * {@code gpa} is in no memslot or its memory was unmapped. The whole access is one read
     * section of the memslots SRCU (what a grace period waits for); inside it, each attempt to
     * store runs in guest mode (what a TLB flush waits for), and a write-protected page exits
     * to the fault handler, which marks it dirty and maps it writable before the next attempt.
     */
    private Errno guestWrite(long gpa, long value) {
        long gfn = gpa >>> KvmApi.PAGE_SHIFT;
        int idx = vm.srcu.readLock();                                  // TLA+: VcpuEnterSrcu(v)
        try {
            Memslots slots = vm.memslots();
            Memslot slot = slots.lookup(gfn);                          // TLA+: VcpuLookupSlot(v)
            if (slot == null) {
                return Errno.EFAULT;
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
                    return Errno.EFAULT;
                } finally {
                    vm.guestMode.readUnlock(mode);
                }
                // A write fault is an exit: handled in the host, outside guest mode, so a TLB
                // flush does not wait for it; only the memslots grace period does.
                if (!slot.memory().scope().isAlive()) {
                    return Errno.EFAULT;                               // gfn_to_pfn: hva unmapped
                }
                dirtyLog.writeFault(this, slot, page);                 // TLA+: VcpuWriteFault(v)
            }
            countIfFreed(slots);
            return null;
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
        private final Thread thread;
        private volatile boolean stopRequested;
        private volatile long completed;
        private volatile Errno error;

        Writer(RandomWrites writes) {
            this.writes = writes;
            this.thread = Thread.ofPlatform().daemon().name("vcpu-" + id).unstarted(this::run);
        }

        private void run() {
            SplittableRandom random = new SplittableRandom(writes.seed());
            long done = 0;
            do {
                long gpa = writes.firstGpa() + random.nextLong(writes.pages()) * KvmApi.PAGE_SIZE;
                Errno errno = guestWrite(gpa, writes.iteration());
                if (errno != null) {
                    error = errno;
                    break;
                }
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

        @Override
        public long writesSoFar() {
            return completed;
        }

        @Override
        public IoctlResult<Long> stop() {
            stopRequested = true;
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
