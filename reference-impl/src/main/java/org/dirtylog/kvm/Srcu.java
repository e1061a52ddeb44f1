package org.dirtylog.kvm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Sleepable RCU with the lock and unlock counts of Linux 4.11 ({@code kernel/rcu/srcu.c}): two
 * indices, monotonic per-stripe lock and unlock counters, flip and wait twice. Readers never
 * block and never write a shared line (each thread hashes to its own padded stripe); a grace
 * period waits for every reader that entered before it and for no reader that entered after.
 *
 * <p>The steps are those of the TLA+ model {@code spec/models/srcu/SrcuCounters.tla}; each
 * method names its action. Not a read-write lock: a reader that enters during a grace period
 * does not delay it.
 */
public class Srcu {

    private static final int STRIPES = 32;
    /** Longs per stripe: 128 bytes, so two stripes never share a cache line (nor its prefetch pair). */
    private static final int STRIDE = 16;
    private static final int LOCK = 0;
    private static final int UNLOCK = 2;
    private static final int SPINS_BEFORE_YIELD = 64;

    private static final VarHandle COUNTERS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] counters = new long[(STRIPES + 1) * STRIDE];
    private volatile long completed;
    private volatile boolean waiting;
    private final ReentrantLock syncMutex = new ReentrantLock();

    /**
     * Enters a read section and returns the index to pass to {@link #readUnlock(int)}.
     * TLA+: ReadLockLoadIndex(r), ReadLockIncrement(r).
     */
    public final int readLock() {
        int idx = readLockLoadIndex();
        readLockIncrement(idx);
        return idx;
    }

    /** Returns the active index, {@code completed & 1}. TLA+: ReadLockLoadIndex(r). */
    protected final int readLockLoadIndex() {
        return (int) (completed & 1);
    }

    /**
     * Counts the calling thread in {@code lockCount[stripe][idx]}. TLA+: ReadLockIncrement(r).
     * The increment is a volatile read-modify-write, and the section's first load (the memslots
     * pointer) is a volatile read: the JMM orders volatile accesses totally, consistent with
     * program order, so a waiter whose volatile sum missed this increment published its memslots
     * before our load of them (the kernel's smp_mb() B). On x86 the RMW is a locked instruction,
     * a full barrier already; an explicit fence here only doubled the cost of every read section.
     */
    protected final void readLockIncrement(int idx) {
        COUNTERS.getAndAdd(counters, slot(stripe(), LOCK + idx), 1L);
    }

    /**
     * Leaves the read section entered with {@code idx}. TLA+: ReadUnlock(r).
     * The increment is a volatile write with release semantics: every access of the section,
     * the plain guest store included, happens-before the volatile read of this count by the
     * waiter that then frees what the section used (the kernel's smp_mb() C).
     */
    public final void readUnlock(int idx) {
        COUNTERS.getAndAdd(counters, slot(stripe(), UNLOCK + idx), 1L);
    }

    /** Waits (sleeping between checks) until every read section entered before the call has left. */
    public final void synchronize() {
        synchronize(false);
    }

    /** Waits (spinning, then yielding between checks) until every earlier read section has left. */
    public final void synchronizeExpedited() {
        synchronize(true);
    }

    /** Returns the number of completed index flips ({@code completed}). */
    public final long completed() {
        return completed;
    }

    /**
     * Returns true while a grace period is waiting. A reader thread checks this between read
     * sections and yields the CPU there (the kernel's {@code cond_resched()} outside the
     * read-side critical section), so that on an oversubscribed machine the waiter is not held
     * up by a reader preempted inside its section for a whole time slice.
     */
    public final boolean gracePeriodWaiting() {
        return waiting;
    }

    private void synchronize(boolean expedited) {
        syncMutex.lock();
        try {
            // TLA+: SyncBegin
            waiting = true;
            flipAndWait(expedited);
            waiting = false;
            // TLA+: SyncEnd
        } finally {
            syncMutex.unlock();
        }
    }

    /**
     * Performs the grace period under the mutex: wait for the inactive index, flip, wait for the
     * index that was active. The first wait is needed because a reader may have loaded that
     * index before the previous flip and incremented it after the previous waiter found the
     * counters equal.
     */
    protected void flipAndWait(boolean expedited) {
        waitIdx(1 - readLockLoadIndex(), expedited);
        flip();
        waitIdx(1 - readLockLoadIndex(), expedited);
    }

    /** Advances {@code completed}, making the other index active. TLA+: SyncFlip. */
    protected final void flip() {
        completed = completed + 1;
        VarHandle.fullFence();
    }

    /**
     * Returns once the lock and unlock counts of index {@code i} are equal.
     * TLA+: SyncSumUnlocks, SyncSumLocks (repeated until they match).
     */
    protected final void waitIdx(int i, boolean expedited) {
        long sleepNanos = TimeUnit.MICROSECONDS.toNanos(10);
        for (int attempt = 0; ; attempt++) {
            long unlocks = 0;
            for (int s = 0; s < STRIPES; s++) {
                unlocks += (long) COUNTERS.getVolatile(counters, slot(s, UNLOCK + i));
            }
            VarHandle.fullFence();
            long locks = 0;
            for (int s = 0; s < STRIPES; s++) {
                locks += (long) COUNTERS.getVolatile(counters, slot(s, LOCK + i));
            }
            if (locks == unlocks) {
                VarHandle.fullFence();
                return;
            }
            if (attempt < SPINS_BEFORE_YIELD) {
                Thread.onSpinWait();
            } else if (expedited) {
                Thread.yield();
            } else {
                LockSupport.parkNanos(sleepNanos);
                sleepNanos = Math.min(sleepNanos * 2, TimeUnit.MILLISECONDS.toNanos(1));
            }
        }
    }

    private static int stripe() {
        return (int) (Thread.currentThread().threadId() & (STRIPES - 1));
    }

    private static int slot(int stripe, int counter) {
        return (stripe + 1) * STRIDE + counter;
    }
}
