package org.dirtylog.arch.linuxkvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.RandomWriter;
import org.dirtylog.spi.RandomWrites;

/**
 * A vCPU of {@link LinuxKvmVm}: a {@link VcpuFd} in long mode running {@link GuestProgram} on
 * a thread of its own (created on first use), as a VMM does. Callers wait for that thread;
 * {@link #close()} kicks it out of {@code KVM_RUN} with {@code immediate_exit} plus a signal, so
 * a guest that never reaches its completion exit cannot hang the VM's teardown.
 */
final class LinuxKvmVcpu implements BackendVcpu {

    /** How long {@link RandomWriter#stop()} waits for the guest to see its stop flag. */
    static final long STOP_TIMEOUT_MILLIS = 10_000;
    private static final long KICK_INTERVAL_MILLIS = 20;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final long stopTimeoutMillis;
    private final VcpuFd vcpu;
    private final MemorySegment shared;
    private final long sharedGpa;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment regs;

    private final Object kickLock = new Object();
    // Guarded by kickLock: pthread_t of the vCPU thread while it is inside KVM_RUN, else 0.
    private long inGuest;
    // Guarded by kickLock.
    private boolean cancelRequested;
    // Guarded by kickLock.
    private boolean closed;
    // Guarded by kickLock: the last count read before close, for writesSoFar() afterwards.
    private long lastWrites;
    // Guarded by this.
    private ExecutorService thread;
    // Guarded by this: the task the vCPU is running, null when idle.
    private Future<?> busy;

    // vCPU thread only: KVM has exit work to complete before the registers may be reloaded.
    private boolean needsCompletion;
    private long pthreadSelf;

    private LinuxKvmVcpu(VcpuFd vcpu, MemorySegment shared, long sharedGpa, long stopTimeoutMillis) {
        this.stopTimeoutMillis = stopTimeoutMillis;
        this.vcpu = vcpu;
        this.shared = shared;
        this.sharedGpa = sharedGpa;
        this.regs = arena.allocate(KvmStructs.KVM_REGS);
    }

    /**
     * Returns vCPU {@code id} of {@code vm}, switched to long mode, using the shared area for
     * {@code id} inside {@code privateMemory}. Errors: those of {@link VmFd#createVcpu}, of
     * {@code KVM_GET_SREGS}/{@code KVM_SET_SREGS}.
     */
    static IoctlResult<LinuxKvmVcpu> create(VmFd vm, int id, long kvmRunSize, MemorySegment privateMemory) {
        return create(vm, id, kvmRunSize, privateMemory, STOP_TIMEOUT_MILLIS);
    }

    /** As {@link #create(VmFd, int, long, MemorySegment)}, with another stop timeout (for tests). */
    static IoctlResult<LinuxKvmVcpu> create(VmFd vm, int id, long kvmRunSize, MemorySegment privateMemory,
                                            long stopTimeoutMillis) {
        IoctlResult<VcpuFd> created = vm.createVcpu(id, kvmRunSize);
        if (!(created instanceof IoctlResult.Ok<VcpuFd> ok)) {
            return IoctlResult.err(created.errnoOrNull());
        }
        VcpuFd fd = ok.value();
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment sregs = scratch.allocate(KvmStructs.KVM_SREGS);
            IoctlResult<Integer> r = fd.getSregs(sregs);
            if (r.isOk()) {
                GuestProgram.setLongMode(sregs);
                r = fd.setSregs(sregs);
            }
            if (!r.isOk()) {
                fd.close();
                return IoctlResult.err(r.errnoOrNull());
            }
        }
        long gpa = GuestProgram.sharedAreaGpa(id);
        return IoctlResult.ok(new LinuxKvmVcpu(fd, privateMemory.asSlice(gpa, GuestProgram.SHARED_AREA_SIZE), gpa,
                stopTimeoutMillis));
    }

    @Override
    public int id() {
        return vcpu.id();
    }

    /**
     * Runs the batch guest until every write is done, {@link GuestProgram#BATCH_CAPACITY} writes
     * per guest entry, and returns how many it made. Errors: {@code -EFAULT} (a gpa outside
     * {@code [KIT_BASE, KIT_LIMIT)}, checked before any write, or outside every memslot, seen as
     * KVM_EXIT_MMIO after the writes before it), {@code -EBUSY} (random writing in progress),
     * {@code -EINTR} (interrupted or the VM closed), {@code -EIO} (an exit the guest never causes),
     * {@code -EBADF} (closed), those of {@code KVM_RUN}.
     */
    @Override
    public IoctlResult<Integer> runWrites(List<GuestWrite> writes) {
        for (GuestWrite w : writes) {
            if (w.gpa() < GuestProgram.KIT_BASE || w.gpa() > GuestProgram.KIT_LIMIT - Long.BYTES) {
                return IoctlResult.err(Errno.EFAULT);
            }
        }
        List<GuestWrite> copy = List.copyOf(writes);
        IoctlResult<Future<IoctlResult<Integer>>> started = start(() -> runBatches(copy));
        if (!(started instanceof IoctlResult.Ok<Future<IoctlResult<Integer>>> ok)) {
            return IoctlResult.err(started.errnoOrNull());
        }
        return await(ok.value(), Long.MAX_VALUE);
    }

    private IoctlResult<Integer> runBatches(List<GuestWrite> writes) {
        int done = 0;
        while (done < writes.size()) {
            int n = Math.min(GuestProgram.BATCH_CAPACITY, writes.size() - done);
            // Native memory: this vCPU's shared area; the guest reads it only while we wait in KVM_RUN.
            shared.set(ValueLayout.JAVA_LONG, GuestProgram.BATCH_COUNT, n);
            for (int i = 0; i < n; i++) {
                GuestWrite w = writes.get(done + i);
                long at = GuestProgram.BATCH_PAIRS + i * 16L;
                shared.set(ValueLayout.JAVA_LONG, at, w.gpa());
                shared.set(ValueLayout.JAVA_LONG, at + 8, w.value());
            }
            IoctlResult<Integer> r = runGuest(GuestProgram.BATCH_ENTRY, GuestProgram.PORT_BATCH_DONE);
            if (!r.isOk()) {
                return r;
            }
            done += n;
        }
        return IoctlResult.ok(done);
    }

    /**
     * Starts the random-writing guest and returns its handle at once. Errors: {@code -EFAULT}
     * (range outside {@code [KIT_BASE, KIT_LIMIT)}), {@code -EBUSY}, {@code -EBADF} (closed).
     */
    @Override
    public IoctlResult<RandomWriter> startRandomWrites(RandomWrites w) {
        long end = w.firstGpa() + w.pages() * KvmApi.PAGE_SIZE;
        if (w.firstGpa() < GuestProgram.KIT_BASE || w.pages() > (GuestProgram.KIT_LIMIT >>> KvmApi.PAGE_SHIFT)
                || end > GuestProgram.KIT_LIMIT) {
            return IoctlResult.err(Errno.EFAULT);
        }
        synchronized (this) {
            synchronized (kickLock) {
                if (closed) {
                    return IoctlResult.err(Errno.EBADF);
                }
            }
            if (busy != null && !busy.isDone()) {
                return IoctlResult.err(Errno.EBUSY);
            }
            // Native memory: the guest is not running, so plain stores suffice; KVM_RUN orders them.
            shared.set(ValueLayout.JAVA_LONG, GuestProgram.RANDOM_STOP, 0L);
            shared.set(ValueLayout.JAVA_LONG, GuestProgram.RANDOM_FIRST_GPA, w.firstGpa());
            shared.set(ValueLayout.JAVA_LONG, GuestProgram.RANDOM_PAGES, w.pages());
            shared.set(ValueLayout.JAVA_LONG, GuestProgram.RANDOM_ITERATION, w.iteration());
            shared.set(ValueLayout.JAVA_LONG, GuestProgram.RANDOM_SEED, w.seed());
            shared.set(ValueLayout.JAVA_LONG, GuestProgram.RANDOM_WRITES, 0L);
            IoctlResult<Future<IoctlResult<Long>>> started = start(() -> {
                IoctlResult<Integer> r = runGuest(GuestProgram.RANDOM_ENTRY, GuestProgram.PORT_RANDOM_STOPPED);
                // Native memory: the guest is out of KVM_RUN, every store it made is visible.
                return r.isOk() ? IoctlResult.ok((long) LONG.getVolatile(shared, GuestProgram.RANDOM_WRITES))
                        : IoctlResult.err(r.errnoOrNull());
            });
            return started.map(Writer::new);
        }
    }

    /** A random-writing session; it owns the vCPU until its task ends. */
    private final class Writer implements RandomWriter {
        private final Future<IoctlResult<Long>> task;
        // Guarded by LinuxKvmVcpu.this.
        private long observed;

        Writer(Future<IoctlResult<Long>> task) {
            this.task = task;
        }

        @Override
        public long writesSoFar() {
            if (task.isDone() && !task.isCancelled()) {
                IoctlResult<Long> r = task.resultNow();
                if (r.isOk()) {
                    return r.value();
                }
            }
            synchronized (LinuxKvmVcpu.this) {
                synchronized (kickLock) {
                    if (busy == task) {
                        // Native memory: the guest stores the count after each write; x86 keeps that order.
                        observed = closed ? lastWrites : (long) LONG.getVolatile(shared, GuestProgram.RANDOM_WRITES);
                    }
                    return observed;
                }
            }
        }

        /**
         * Sets the stop flag and waits for the guest's OUT; returns the number of writes. Errors:
         * {@code -ETIMEDOUT} (no exit within {@link #STOP_TIMEOUT_MILLIS}; the vCPU is kicked out),
         * {@code -EINTR} (interrupted or closed), those of the run. Idempotent.
         */
        @Override
        public IoctlResult<Long> stop() {
            synchronized (LinuxKvmVcpu.this) {
                synchronized (kickLock) {
                    if (!closed && busy == task) {
                        // Native memory: a volatile store, so the looping guest sees it promptly.
                        LONG.setVolatile(shared, GuestProgram.RANDOM_STOP, 1L);
                    }
                }
            }
            return await(task, stopTimeoutMillis);
        }
    }

    private synchronized <T> IoctlResult<Future<IoctlResult<T>>> start(Callable<IoctlResult<T>> task) {
        synchronized (kickLock) {
            if (closed) {
                return IoctlResult.err(Errno.EBADF);
            }
            if (busy != null && !busy.isDone()) {
                return IoctlResult.err(Errno.EBUSY);
            }
            cancelRequested = false;
            vcpu.setImmediateExit(false);
        }
        if (thread == null) {
            thread = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "linux-kvm-vcpu-" + vcpu.id());
                t.setDaemon(true);
                return t;
            });
        }
        Future<IoctlResult<T>> future = thread.submit(task);
        busy = future;
        return IoctlResult.ok(future);
    }

    /**
     * Returns {@code task}'s result once the vCPU thread finished it. Errors: {@code -ETIMEDOUT}
     * after {@code timeoutMillis} and {@code -EINTR} when the caller is interrupted, both only once
     * the vCPU has been kicked out and the task ended (so the vCPU is free again); a task that
     * threw is a bug in the backend and rethrown.
     */
    private <T> IoctlResult<T> await(Future<IoctlResult<T>> task, long timeoutMillis) {
        try {
            return task.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            cancelAndWait(task);
            return IoctlResult.err(Errno.ETIMEDOUT);
        } catch (InterruptedException e) {
            cancelAndWait(task);
            Thread.currentThread().interrupt();
            return IoctlResult.err(Errno.EINTR);
        } catch (ExecutionException e) {
            throw new IllegalStateException("vCPU thread failed", e.getCause());
        }
    }

    private void cancelAndWait(Future<?> task) {
        while (!task.isDone()) {
            kick();
            try {
                task.get(KICK_INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException | ExecutionException e) {
                // retried below or surfaced by the caller's own get()
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Kicks the vCPU thread out of the guest. Order matters: {@code immediate_exit} first covers a
     * thread that is between recording itself and entering KVM_RUN (the signal would then be
     * consumed in user space); the signal covers a thread already inside KVM_RUN.
     */
    private void kick() {
        synchronized (kickLock) {
            cancelRequested = true;
            if (!closed) {
                vcpu.setImmediateExit(true);
            }
            if (inGuest != 0) {
                Syscalls.pthreadKill(inGuest, Syscalls.SIGPIPE);
            }
        }
    }

    /** vCPU thread: enters the guest at {@code rip} and runs it until its OUT to {@code port}. */
    private IoctlResult<Integer> runGuest(long rip, int port) {
        IoctlResult<Integer> completed = completePendingExit();
        if (!completed.isOk()) {
            return completed;
        }
        GuestProgram.setEntry(regs, rip, sharedGpa);
        IoctlResult<Integer> set = vcpu.setRegs(regs);
        if (!set.isOk()) {
            return set;
        }
        while (true) {
            IoctlResult<Integer> r = enterGuest();
            if (Errno.EINTR.equals(r.errnoOrNull())) {
                synchronized (kickLock) {
                    if (cancelRequested || closed) {
                        return IoctlResult.err(Errno.EINTR);
                    }
                }
                continue;
            }
            if (!r.isOk()) {
                return r;
            }
            needsCompletion = true;
            int exit = vcpu.exitReason();
            if (exit == KvmStructs.KVM_EXIT_IO && vcpu.ioDirection() == KvmStructs.KVM_EXIT_IO_OUT
                    && vcpu.ioPort() == port) {
                return IoctlResult.ok(0);
            }
            return IoctlResult.err(exit == KvmStructs.KVM_EXIT_MMIO ? Errno.EFAULT : Errno.EIO);
        }
    }

    private IoctlResult<Integer> enterGuest() {
        if (pthreadSelf == 0) {
            pthreadSelf = Syscalls.pthreadSelf();
        }
        synchronized (kickLock) {
            if (cancelRequested || closed) {
                return IoctlResult.err(Errno.EINTR);
            }
            inGuest = pthreadSelf;
        }
        try {
            return vcpu.run();
        } finally {
            synchronized (kickLock) {
                inGuest = 0;
            }
        }
    }

    /**
     * vCPU thread: lets KVM finish the last exit (e.g. the emulated OUT) with one KVM_RUN under
     * {@code immediate_exit}, as the kernel selftests' {@code vcpu_run_complete_io} does, so that
     * reloading the registers cannot race with KVM's own completion of the old instruction.
     */
    private IoctlResult<Integer> completePendingExit() {
        if (!needsCompletion) {
            return IoctlResult.ok(0);
        }
        synchronized (kickLock) {
            if (cancelRequested || closed) {
                return IoctlResult.err(Errno.EINTR);
            }
            vcpu.setImmediateExit(true);
        }
        IoctlResult<Integer> r = vcpu.run();
        synchronized (kickLock) {
            if (!cancelRequested && !closed) {
                vcpu.setImmediateExit(false);
            }
        }
        needsCompletion = false;
        return r.isOk() || Errno.EINTR.equals(r.errnoOrNull()) ? IoctlResult.ok(0) : r;
    }

    /** Stops the vCPU thread (kicking it out of the guest), unmaps kvm_run, closes the fd. Idempotent. */
    @Override
    public void close() {
        ExecutorService t;
        synchronized (this) {
            synchronized (kickLock) {
                if (closed) {
                    return;
                }
                // Native memory: the backend memslot is unmapped only after every vCPU closed.
                lastWrites = (long) LONG.getVolatile(shared, GuestProgram.RANDOM_WRITES);
                cancelRequested = true;
                vcpu.setImmediateExit(true);
                closed = true;
                if (inGuest != 0) {
                    Syscalls.pthreadKill(inGuest, Syscalls.SIGPIPE);
                }
            }
            t = thread;
        }
        if (t != null) {
            t.shutdown();
            boolean interrupted = false;
            while (!t.isTerminated()) {
                synchronized (kickLock) {
                    if (inGuest != 0) {
                        Syscalls.pthreadKill(inGuest, Syscalls.SIGPIPE);
                    }
                }
                try {
                    t.awaitTermination(KICK_INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        vcpu.close();
        arena.close();
    }
}
