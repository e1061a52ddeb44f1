package org.dirtylog.independent;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.RandomWriter;
import org.dirtylog.spi.RandomWrites;

/**
 * A vCPU of {@link IndependentVm}. Each guest store runs in <em>guest mode</em>, a short
 * section delimited by the vCPU's mode counter: odd inside, even outside. Nothing blocks inside
 * guest mode, so any other thread can wait for the section in flight to end without stopping
 * the vCPU ({@link #waitUntilOutsideGuestMode()}): that wait is the grace period of every
 * harvest, and, with {@link IndependentVm#stopVcpus()}, the exclusion of memslot changes.
 */
final class IndependentVcpu implements BackendVcpu {

    private static final VarHandle MODE;

    static {
        try {
            MODE = MethodHandles.lookup().findVarHandle(IndependentVcpu.class, "mode", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Spins of a waiting thread before it starts yielding the CPU to the vCPU it waits for. */
    private static final int SPINS = 100;

    final int id;
    private final IndependentVm vm;
    /** Odd while in guest mode; written only by the thread running the vCPU, through {@link #MODE}. */
    private volatile long mode;
    /** The memslot of the last store (the vCPU's TLB); cleared with the vCPU outside guest mode. */
    Memslot tlb;
    private Writer writer;
    private boolean closed;

    IndependentVcpu(int id, IndependentVm vm) {
        this.id = id;
        this.vm = vm;
    }

    @Override
    public int id() {
        return id;
    }

    /**
     * Enters guest mode and returns true, or returns false when the VM is closed. While a
     * memslot change is in progress the vCPU waits outside guest mode for it to finish.
     */
    boolean enterGuestMode() {
        while (true) {
            long m = (long) MODE.getOpaque(this);
            // The volatile store then the volatile load of vm.updating pair with stopVcpus'
            // store then load: either this vCPU sees the change coming, or the changer sees it inside.
            MODE.setVolatile(this, m + 1);
            if (!vm.updating()) {
                return true;
            }
            MODE.setRelease(this, m + 2);
            if (vm.closed()) {
                return false;
            }
            vm.awaitUpdate();
        }
    }

    /** Leaves guest mode: everything the section did is visible to whoever waits for it. */
    void exitGuestMode() {
        MODE.setRelease(this, (long) MODE.getOpaque(this) + 1);
    }

    /**
     * Returns once the guest-mode section in flight when it was called (if any) has ended.
     * Called by other threads; it never stops the vCPU, it only waits for it.
     */
    void waitUntilOutsideGuestMode() {
        long m = (long) MODE.getVolatile(this);
        if ((m & 1) == 0) {
            return;
        }
        for (int spins = 0; (long) MODE.getVolatile(this) == m; spins++) {
            if (spins < SPINS) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    /** Returns the memslot holding {@code gpa}, or null; only in guest mode. */
    Memslot translate(long gpa) {
        Memslot s = tlb;
        if (s != null && s.contains(gpa)) {
            return s;
        }
        s = vm.memslotAt(gpa);
        tlb = s;
        return s;
    }

    /**
     * Runs {@code writes} in order on the calling thread, then exits to user space. Errors:
     * {@code -EFAULT} at the first gpa outside every memslot (earlier writes are done),
     * {@code -EBUSY} while random writes run, {@code -EBADF} after close.
     */
    @Override
    public synchronized IoctlResult<Integer> runWrites(List<GuestWrite> writes) {
        if (closed) {
            return IoctlResult.err(Errno.EBADF);
        }
        if (writer != null) {
            return IoctlResult.err(Errno.EBUSY);
        }
        try {
            for (GuestWrite w : writes) {
                if (!vm.paths().guestWrite(this, w.gpa(), w.value())) {
                    return IoctlResult.err(Errno.EFAULT);
                }
            }
            return IoctlResult.ok(writes.size());
        } finally {
            vm.paths().exitToUserSpace(vm, this);
        }
    }

    /** Starts the selftest guest on a thread of its own. Errors: {@code -EBUSY}, {@code -EBADF}. */
    @Override
    public synchronized IoctlResult<RandomWriter> startRandomWrites(RandomWrites writes) {
        if (closed) {
            return IoctlResult.err(Errno.EBADF);
        }
        if (writer != null) {
            return IoctlResult.err(Errno.EBUSY);
        }
        writer = new Writer(writes);
        writer.thread.start();
        return IoctlResult.ok(writer);
    }

    /** Stops random writes if they run; later calls get {@code -EBADF}. Idempotent. */
    @Override
    public void close() {
        Writer w;
        synchronized (this) {
            closed = true;
            w = writer;
        }
        if (w != null) {
            w.stop();
        }
    }

    /** The selftest guest: stores the iteration into the first word of random pages until stopped. */
    private final class Writer implements RandomWriter {
        private final Thread thread;
        private final AtomicLong writes = new AtomicLong();
        private volatile boolean stopping;
        private volatile Errno failure;

        Writer(RandomWrites w) {
            thread = Thread.ofPlatform().daemon().name("independent-vcpu" + id).unstarted(() -> run(w));
        }

        private void run(RandomWrites w) {
            SplittableRandom random = new SplittableRandom(w.seed());
            DirtyLogPaths paths = vm.paths();
            long n = 0;
            try {
                while (!stopping) {
                    long gpa = w.firstGpa() + (random.nextLong(w.pages()) << KvmApi.PAGE_SHIFT);
                    if (!paths.guestWrite(IndependentVcpu.this, gpa, w.iteration())) {
                        failure = Errno.EFAULT;
                        return;
                    }
                    writes.lazySet(++n);
                }
            } catch (RuntimeException e) {
                failure = Errno.EIO;
            } finally {
                paths.exitToUserSpace(vm, IndependentVcpu.this);
            }
        }

        @Override
        public long writesSoFar() {
            return writes.get();
        }

        @Override
        public IoctlResult<Long> stop() {
            stopping = true;
            boolean interrupted = false;
            while (true) {
                try {
                    thread.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            synchronized (IndependentVcpu.this) {
                if (writer == this) {
                    writer = null;
                }
            }
            Errno f = failure;
            return f != null ? IoctlResult.err(f) : IoctlResult.ok(writes.get());
        }
    }
}
