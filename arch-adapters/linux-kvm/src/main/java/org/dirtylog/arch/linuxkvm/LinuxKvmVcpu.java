package org.dirtylog.arch.linuxkvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
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
import org.dirtylog.spi.UserMemory;
import org.dirtylog.spi.VcpuExit;
import org.dirtylog.spi.VcpuRun;

/**
 * A vCPU of {@link LinuxKvmVm}: a {@link VcpuFd} in long mode running {@link GuestProgram} on
 * a thread of its own (created on first use), as a VMM does. Callers wait for that thread;
 * {@link #close()} kicks it out of {@code KVM_RUN} with {@code immediate_exit} plus a signal, so
 * a guest that never reaches its completion exit cannot hang the VM's teardown.
 *
 * <p>With a dirty ring the vCPU loop handles {@code KVM_EXIT_DIRTY_RING_FULL}: a batch returns
 * to its caller with the writes that retired, a writing session waits (out of guest mode) until
 * the caller resumes or stops it; {@link #kick()} signals the thread out of {@code KVM_RUN}
 * without ending what it runs, and the ring's mapping is unmapped by {@link #close()}.
 */
final class LinuxKvmVcpu implements BackendVcpu {

    /** How long {@link RandomWriter#stop()} waits for the guest to see its stop flag. */
    static final long STOP_TIMEOUT_MILLIS = 10_000;
    private static final long KICK_INTERVAL_MILLIS = 20;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    /** What the loop does when the guest leaves with KVM_EXIT_DIRTY_RING_FULL. */
    private enum OnRingFull {
        /** Return to the caller (a batch run until its exit). */
        RETURN,
        /** Wait out of guest mode until resumed or stopped (a writing session). */
        WAIT,
        /** Nothing to do but fail: the caller cannot harvest (a batch with the old runWrites). */
        FAIL
    }

    /** runGuest's value when the guest reached its completion port. */
    private static final int REACHED_PORT = 0;
    /** runGuest's value when the guest left with KVM_EXIT_DIRTY_RING_FULL (OnRingFull.RETURN). */
    private static final int RING_FULL = 1;

    private final long stopTimeoutMillis;
    private final long ringBytes;
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
    // Guarded by this: mappings of the dirty ring, unmapped by close().
    private final List<UserMapping> ringMappings = new ArrayList<>();
    // Guarded by kickLock: the session waits out of guest mode on a full ring.
    private boolean ringFull;
    // Guarded by kickLock: ring-full exits of the current session.
    private long ringFullExits;
    // Guarded by kickLock: the caller asked the current session to stop.
    private boolean stopRequested;
    // Guarded by kickLock: kicks asked for, and the last one the vCPU thread answered by leaving KVM_RUN.
    private long kicksAsked;
    private long kicksAnswered;

    // vCPU thread only: KVM has exit work to complete before the registers may be reloaded.
    private boolean needsCompletion;
    private long pthreadSelf;

    private LinuxKvmVcpu(VcpuFd vcpu, MemorySegment shared, long sharedGpa, long stopTimeoutMillis, long ringBytes) {
        this.stopTimeoutMillis = stopTimeoutMillis;
        this.ringBytes = ringBytes;
        this.vcpu = vcpu;
        this.shared = shared;
        this.sharedGpa = sharedGpa;
        this.regs = arena.allocate(KvmStructs.KVM_REGS);
    }

    /**
     * Returns vCPU {@code id} of {@code vm}, switched to long mode, using the shared area for
     * {@code id} inside {@code privateMemory}; {@code ringBytes} is the VM's dirty ring size
     * (0: none). Errors: those of {@link VmFd#createVcpu}, of
     * {@code KVM_GET_SREGS}/{@code KVM_SET_SREGS}.
     */
    static IoctlResult<LinuxKvmVcpu> create(VmFd vm, int id, long kvmRunSize, MemorySegment privateMemory,
                                            long ringBytes) {
        return create(vm, id, kvmRunSize, privateMemory, ringBytes, STOP_TIMEOUT_MILLIS);
    }

    /** As {@link #create(VmFd, int, long, MemorySegment, long)}, with another stop timeout (for tests). */
    static IoctlResult<LinuxKvmVcpu> create(VmFd vm, int id, long kvmRunSize, MemorySegment privateMemory,
                                            long ringBytes, long stopTimeoutMillis) {
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
                stopTimeoutMillis, ringBytes));
    }

    @Override
    public int id() {
        return vcpu.id();
    }

    /**
     * Runs the batch guest until every write is done, {@link GuestProgram#BATCH_CAPACITY} writes
     * per guest entry, and returns how many it made. Errors: {@code -EFAULT} (a gpa outside
     * {@code [KIT_BASE, KIT_LIMIT)}, checked before any write, or outside every memslot, seen as
     * KVM_EXIT_MMIO after the writes before it), {@code -ENOSPC} (the dirty ring became
     * soft-full: {@link #runWritesUntilExit} reports that exit to a caller that can harvest),
     * {@code -EBUSY} (random writing in progress), {@code -EINTR} (interrupted or the VM closed),
     * {@code -EIO} (an exit the guest never causes), {@code -EBADF} (closed), those of
     * {@code KVM_RUN}.
     */
    @Override
    public IoctlResult<Integer> runWrites(List<GuestWrite> writes) {
        return runBatch(writes, OnRingFull.FAIL).map(VcpuRun::writes);
    }

    /**
     * Runs the batch guest until every write is done or the vCPU exits with
     * {@code KVM_EXIT_DIRTY_RING_FULL}; the writes that retired are counted from the registers
     * ({@link GuestProgram#batchWritesRetired}), so a store that faulted and pushed its entry
     * but was not re-executed is not counted. Errors: as {@link #runWrites}, without
     * {@code -ENOSPC}. TLA+ (spec/models/ring): VcpuStore, VcpuEmulatedStore; the exit is
     * PushAndCheck's soft-full exit.
     */
    @Override
    public IoctlResult<VcpuRun> runWritesUntilExit(List<GuestWrite> writes) {
        return runBatch(writes, OnRingFull.RETURN);
    }

    private IoctlResult<VcpuRun> runBatch(List<GuestWrite> writes, OnRingFull onRingFull) {
        for (GuestWrite w : writes) {
            if (w.gpa() < GuestProgram.KIT_BASE || w.gpa() > GuestProgram.KIT_LIMIT - Long.BYTES) {
                return IoctlResult.err(Errno.EFAULT);
            }
        }
        List<GuestWrite> copy = List.copyOf(writes);
        IoctlResult<Future<IoctlResult<VcpuRun>>> started = start(() -> runBatches(copy, onRingFull));
        if (!(started instanceof IoctlResult.Ok<Future<IoctlResult<VcpuRun>>> ok)) {
            return IoctlResult.err(started.errnoOrNull());
        }
        return await(ok.value(), Long.MAX_VALUE);
    }

    private IoctlResult<VcpuRun> runBatches(List<GuestWrite> writes, OnRingFull onRingFull) {
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
            IoctlResult<Integer> r = runGuest(GuestProgram.BATCH_ENTRY, GuestProgram.PORT_BATCH_DONE, onRingFull);
            if (!r.isOk()) {
                return IoctlResult.err(r.errnoOrNull());
            }
            if (r.value() == RING_FULL) {
                IoctlResult<Integer> regsRead = vcpu.getRegs(regs);
                if (!regsRead.isOk()) {
                    return IoctlResult.err(regsRead.errnoOrNull());
                }
                // Native memory: regs is this vCPU's kvm_regs buffer, just filled by KVM_GET_REGS.
                int retired = GuestProgram.batchWritesRetired(reg("rip"), reg("rsi"), reg("rdi"));
                return IoctlResult.ok(new VcpuRun(done + retired, VcpuExit.DIRTY_RING_FULL));
            }
            done += n;
        }
        return IoctlResult.ok(new VcpuRun(done, VcpuExit.DONE));
    }

    private long reg(String name) {
        return regs.get(ValueLayout.JAVA_LONG, KvmStructs.offsetOf(KvmStructs.KVM_REGS, name));
    }

    /**
     * Starts the random-writing guest and returns its handle at once. Errors: {@code -EFAULT}
     * (range outside {@code [KIT_BASE, KIT_LIMIT)}), {@code -EBUSY}, {@code -EBADF} (closed).
     */
    @Override
    public IoctlResult<RandomWriter> startRandomWrites(RandomWrites w) {
        return startSession(w, GuestProgram.RANDOM_ENTRY);
    }

    /**
     * Starts the sequential guest (pages 0, 1, ... in order, round and round, a store every
     * eight instructions) and returns its handle at once. Errors: as {@link #startRandomWrites}.
     */
    @Override
    public IoctlResult<RandomWriter> startSequentialWrites(RandomWrites w) {
        return startSession(w, GuestProgram.SEQUENTIAL_ENTRY);
    }

    private IoctlResult<RandomWriter> startSession(RandomWrites w, long entry) {
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
            synchronized (kickLock) {
                stopRequested = false;
                ringFull = false;
                ringFullExits = 0;
            }
            IoctlResult<Future<IoctlResult<Long>>> started = start(() -> {
                IoctlResult<Integer> r = runGuest(entry, GuestProgram.PORT_RANDOM_STOPPED, OnRingFull.WAIT);
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
         * Sets the stop flag and waits for the guest's OUT (or, while the session waits on a full
         * ring, ends it at once); returns the number of writes. Errors: {@code -ETIMEDOUT} (no exit
         * within {@link #STOP_TIMEOUT_MILLIS}; the vCPU is kicked out), {@code -EINTR}
         * (interrupted or closed), those of the run. Idempotent.
         */
        @Override
        public IoctlResult<Long> stop() {
            synchronized (LinuxKvmVcpu.this) {
                synchronized (kickLock) {
                    if (!closed && busy == task) {
                        // Native memory: a volatile store, so the looping guest sees it promptly.
                        LONG.setVolatile(shared, GuestProgram.RANDOM_STOP, 1L);
                        stopRequested = true;
                        kickLock.notifyAll();
                    }
                }
            }
            return await(task, stopTimeoutMillis);
        }

        @Override
        public boolean ringFull() {
            synchronized (LinuxKvmVcpu.this) {
                synchronized (kickLock) {
                    return busy == task && LinuxKvmVcpu.this.ringFull;
                }
            }
        }

        /**
         * Lets the vCPU thread enter KVM_RUN again after a ring-full exit; returns 0. Errors:
         * {@code -EINVAL} (the session is not waiting on a full ring). TLA+: VcpuEnter.
         */
        @Override
        public IoctlResult<Integer> resume() {
            synchronized (LinuxKvmVcpu.this) {
                synchronized (kickLock) {
                    if (busy != task || !LinuxKvmVcpu.this.ringFull || closed) {
                        return IoctlResult.err(Errno.EINVAL);
                    }
                    LinuxKvmVcpu.this.ringFull = false;
                    kickLock.notifyAll();
                    return IoctlResult.ok(0);
                }
            }
        }

        @Override
        public long ringFullExits() {
            synchronized (kickLock) {
                return ringFullExits;
            }
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
            cancelKick();
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
     * Kicks the vCPU thread out of the guest for good: what it runs ends with {@code -EINTR}.
     * Order matters: {@code immediate_exit} first covers a thread that is between recording
     * itself and entering KVM_RUN (the signal would then be consumed in user space); the signal
     * covers a thread already inside KVM_RUN.
     */
    private void cancelKick() {
        synchronized (kickLock) {
            cancelRequested = true;
            kickLock.notifyAll();
            if (!closed) {
                vcpu.setImmediateExit(true);
            }
            if (inGuest != 0) {
                Syscalls.pthreadKill(inGuest, Syscalls.SIGPIPE);
            }
        }
    }

    /**
     * Forces the vCPU thread out of KVM_RUN ({@code immediate_exit} plus {@code SIGPIPE}, as for a
     * cancel) and returns once it left it; the thread then enters the guest again and goes on.
     * A thread not inside KVM_RUN returns at once: its last exit already flushed the CPU's log
     * buffer. Returns 0; {@code -EBADF} when closed, {@code -EINTR} when the caller is
     * interrupted. TLA+: Kick.
     */
    @Override
    public IoctlResult<Integer> kick() {
        synchronized (kickLock) {
            if (closed) {
                return IoctlResult.err(Errno.EBADF);
            }
            if (inGuest == 0) {
                return IoctlResult.ok(0);
            }
            long ticket = ++kicksAsked;
            vcpu.setImmediateExit(true);
            Syscalls.pthreadKill(inGuest, Syscalls.SIGPIPE);
            while (kicksAnswered < ticket && !closed) {
                try {
                    kickLock.wait(KICK_INTERVAL_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return IoctlResult.err(Errno.EINTR);
                }
                if (kicksAnswered < ticket && inGuest != 0) {
                    Syscalls.pthreadKill(inGuest, Syscalls.SIGPIPE);
                }
            }
            return IoctlResult.ok(0);
        }
    }

    /**
     * Maps this vCPU's dirty ring ({@link VcpuFd#mmapDirtyRing}); the mapping is unmapped by
     * {@link #close()}. The kernel's own errors come back unchanged ({@code -EINVAL} for
     * MAP_PRIVATE, {@code -EPERM} or {@code -EINVAL} for PROT_EXEC). Errors of the backend, where
     * the kernel would map pages whose access raises SIGBUS: {@code -EINVAL} (no ring enabled
     * before this vCPU was created, or {@code length} 0, not page aligned or larger than the
     * ring). {@code -EBADF} when closed.
     */
    @Override
    public synchronized IoctlResult<UserMemory> mmapDirtyRing(long length, int prot, int flags) {
        synchronized (kickLock) {
            if (closed) {
                return IoctlResult.err(Errno.EBADF);
            }
        }
        if (ringBytes == 0 || length <= 0 || length > ringBytes || (length & (KvmApi.PAGE_SIZE - 1)) != 0) {
            return IoctlResult.err(Errno.EINVAL);
        }
        long address = vcpu.mmapDirtyRing(length, prot, flags);
        if (address < 0) {
            return IoctlResult.err(Errno.fromKernelReturn(address));
        }
        UserMapping ring = UserMapping.adopt(address, length);
        ringMappings.add(ring);
        return IoctlResult.ok(new UserMemory(ring.address(), ring.segment()));
    }

    /**
     * vCPU thread: enters the guest at {@code rip} and runs it until its OUT to {@code port}
     * ({@link #REACHED_PORT}), or until KVM_EXIT_DIRTY_RING_FULL, which {@code onRingFull} decides:
     * return {@link #RING_FULL}, wait out of guest mode until resumed (then KVM_RUN again; KVM
     * exits again at once while the ring stays soft-full) or stopped, or fail with
     * {@code -ENOSPC}.
     */
    private IoctlResult<Integer> runGuest(long rip, int port, OnRingFull onRingFull) {
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
                return IoctlResult.ok(REACHED_PORT);
            }
            if (exit == KvmStructs.KVM_EXIT_DIRTY_RING_FULL) {
                switch (onRingFull) {
                    case RETURN -> {
                        return IoctlResult.ok(RING_FULL);
                    }
                    case FAIL -> {
                        return IoctlResult.err(Errno.ENOSPC);
                    }
                    case WAIT -> {
                        IoctlResult<Integer> waited = waitForResume();
                        if (waited != null) {
                            return waited;
                        }
                        continue;
                    }
                }
            }
            return IoctlResult.err(exit == KvmStructs.KVM_EXIT_MMIO ? Errno.EFAULT : Errno.EIO);
        }
    }

    /**
     * vCPU thread, after a ring-full exit of a session: waits until the caller resumes it
     * (returns null: enter again), stops it (its writes are done; {@link #REACHED_PORT}) or the
     * vCPU is cancelled ({@code -EINTR}).
     */
    private IoctlResult<Integer> waitForResume() {
        synchronized (kickLock) {
            ringFull = true;
            ringFullExits++;
            kickLock.notifyAll();
            while (ringFull && !stopRequested && !cancelRequested && !closed) {
                try {
                    kickLock.wait();
                } catch (InterruptedException e) {
                    // Only close() or a cancel ends the wait; the executor's shutdownNow is not used.
                    Thread.currentThread().interrupt();
                    return IoctlResult.err(Errno.EINTR);
                }
            }
            if (cancelRequested || closed) {
                return IoctlResult.err(Errno.EINTR);
            }
            if (stopRequested) {
                ringFull = false;
                return IoctlResult.ok(REACHED_PORT);
            }
            return null;
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
                if (kicksAnswered < kicksAsked) {
                    // Any return from KVM_RUN was a VM exit: the CPU's log buffer is in the ring.
                    kicksAnswered = kicksAsked;
                    if (!cancelRequested && !closed) {
                        vcpu.setImmediateExit(false);
                    }
                    kickLock.notifyAll();
                }
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

    /**
     * Stops the vCPU thread (kicking it out of the guest), unmaps the dirty ring mappings and
     * kvm_run, closes the fd. Idempotent.
     */
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
                kickLock.notifyAll();
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
        List<UserMapping> rings;
        synchronized (this) {
            rings = List.copyOf(ringMappings);
            ringMappings.clear();
        }
        // The ring mappings hold the vCPU file open: unmap them, or the kernel never frees the vCPU.
        for (UserMapping ring : rings) {
            ring.unmap();
        }
        vcpu.close();
        arena.close();
    }
}
