package org.dirtylog.kvm;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.RandomWrites;
import org.dirtylog.spi.RandomWriter;

/**
 * A virtual CPU ({@code struct kvm_vcpu}): executes guest stores through the VM's emulated MMU
 * on the calling thread ({@link #runWrites(List)}) or on a thread of its own
 * ({@link #startRandomWrites(RandomWrites)}, the selftest guest). One thing at a time.
 */
public final class Vcpu implements BackendVcpu {

    private static final int PUBLISH_EVERY = 256;

    private final Vm vm;
    private final int id;
    private final Object arch;
    private Writer writer;
    private boolean closed;

    Vcpu(Vm vm, int id, Object arch) {
        this.vm = vm;
        this.id = id;
        this.arch = arch;
    }

    @Override
    public int id() {
        return id;
    }

    /** Returns the VM of this vCPU. */
    public Vm vm() {
        return vm;
    }

    /** Returns the architecture's per-vCPU state. */
    public Object arch() {
        return arch;
    }

    /**
     * Performs every write in order and returns how many were performed.
     * Errors: -EFAULT (a gpa in no memslot; the writes before it were done), -EBUSY (random
     * writes are running), -EBADF (closed).
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
            int rc = vm.guestWrite(this, w.gpa(), w.value());
            if (rc < 0) {
                return IoctlResult.err(Errno.fromKernelReturn(rc));
            }
        }
        return IoctlResult.ok(writes.size());
    }

    /**
     * Marks guest frame {@code gfn} dirty the way a vCPU-side exit handler does
     * ({@code kvm_vcpu_mark_page_dirty}): inside an SRCU read section, looks up its memslot
     * and, if the slot is logged, sets its bit through the architecture's hook. Returns 0, or
     * -EFAULT when no memslot holds {@code gfn}. Stores nothing and changes no mapping.
     */
    public int markPageDirty(long gfn) {
        return vm.markPageDirty(this, gfn);
    }

    /**
     * Marks the first {@code count} frames of {@code gfns} dirty inside one SRCU read section, as
     * KVM does when it empties a vCPU's page-modification log on a PML-full exit
     * ({@code kvm_flush_pml_buffer}: up to 512 entries per exit). Returns 0, or -EFAULT at the
     * first frame in no memslot (the frames before it are marked). Stores nothing.
     */
    public int markPagesDirty(long[] gfns, int count) {
        if (count < 0 || count > gfns.length) {
            return Errno.EINVAL.kernelReturn();
        }
        return vm.markPagesDirty(this, gfns, count);
    }

    /** Starts the selftest guest writing {@code writes.iteration()}; see {@link #startRandomWrites(RandomWrites, LongSupplier)}. */
    @Override
    public IoctlResult<RandomWriter> startRandomWrites(RandomWrites writes) {
        long iteration = writes.iteration();
        return startRandomWrites(writes, () -> iteration);
    }

    /**
     * Starts a thread that stores {@code iteration.getAsLong()} (read before each store, like the
     * selftest guest reading its iteration variable) into the first 8 bytes of pseudo-random
     * pages of the range until stopped, and returns its handle.
     * Errors: -EBUSY (already running), -EBADF (closed).
     */
    public synchronized IoctlResult<RandomWriter> startRandomWrites(RandomWrites writes, LongSupplier iteration) {
        if (closed) {
            return IoctlResult.err(Errno.EBADF);
        }
        if (writer != null && writer.thread.isAlive()) {
            return IoctlResult.err(Errno.EBUSY);
        }
        writer = new Writer(writes, iteration);
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

    private final class Writer implements RandomWriter {
        private final RandomWrites writes;
        private final LongSupplier iteration;
        private final Thread thread;
        private volatile boolean stopRequested;
        private volatile long completed;
        private volatile int error;

        Writer(RandomWrites writes, LongSupplier iteration) {
            this.writes = writes;
            this.iteration = iteration;
            this.thread = Thread.ofPlatform().daemon().name("vcpu-" + id).unstarted(this::run);
        }

        private void run() {
            SplittableRandom random = new SplittableRandom(writes.seed());
            long done = 0;
            do {
                long gpa = writes.firstGpa() + random.nextLong(writes.pages()) * KvmApi.PAGE_SIZE;
                int rc = vm.guestWrite(Vcpu.this, gpa, iteration.getAsLong());
                if (rc < 0) {
                    error = rc;
                    break;
                }
                if (++done % PUBLISH_EVERY == 0) {
                    completed = done;
                }
                if (vm.vcpusAwaited()) {
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
            return error < 0 ? IoctlResult.err(Errno.fromKernelReturn(error)) : IoctlResult.ok(completed);
        }
    }
}
