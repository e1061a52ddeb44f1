package org.dirtylog.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

class SrcuTests {

    private static final long MIN_READS = 3_000_000;
    private static final long MIN_GRACE_PERIODS = 1_000;
    private static final Duration HANG = Duration.ofMinutes(5);
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    /** The known-wrong variant of the spec: one flip and one wait. */
    static final class OneFlipSrcu extends Srcu {
        @Override
        protected void flipAndWait(boolean expedited) {
            flip();
            waitIdx(1 - readLockLoadIndex(), expedited);
        }
    }

    /**
     * Starts {@code grace} on a thread of its own while the calling thread is inside a read
     * section, waits until {@code waiting} shows the grace period waiting for that reader, leaves
     * the section, and returns whether the grace period returned while the reader was inside.
     * The answer comes from a flag, never from how long anything took: an early return is seen
     * however fast or slow the machine, and a correct grace period is never blamed for a delay.
     */
    private static boolean returnedWhileAReaderFromBeforeWasInside(Srcu srcu, Runnable grace,
                                                                     Predicate<Thread> waiting) {
        AtomicBoolean readerInside = new AtomicBoolean(true);
        AtomicBoolean returnedEarly = new AtomicBoolean();
        int idx = srcu.readLock();
        Thread waiter = Thread.ofPlatform().start(() -> {
            grace.run();
            returnedEarly.set(readerInside.get());
        });
        await("the grace period waits for the reader or has returned",
                () -> waiting.test(waiter) || waiter.getState() == Thread.State.TERMINATED);
        readerInside.set(false);
        srcu.readUnlock(idx);
        join(waiter);
        return returnedEarly.get();
    }

    /** The waiter sleeps between checks: it checked the counters 64 times and found a reader each time. */
    private static boolean sleepsBetweenChecks(Thread waiter) {
        return waiter.getState() == Thread.State.TIMED_WAITING;
    }

    @Test
    void aGracePeriodWaitsForAReaderThatBeganBeforeIt() {
        Srcu srcu = new Srcu();
        assertFalse(returnedWhileAReaderFromBeforeWasInside(srcu, srcu::synchronize,
                SrcuTests::sleepsBetweenChecks), "synchronize returned while a reader from before it was inside");
        assertEquals(1, srcu.completed(), "one flip per grace period");
    }

    @Test
    void aGracePeriodThatNeverWaitsIsCaughtReturningWhileTheReaderIsInside() {
        Srcu noWait = new Srcu() {
            @Override
            protected void flipAndWait(boolean expedited) {
                flip();
            }
        };
        assertTrue(returnedWhileAReaderFromBeforeWasInside(noWait, noWait::synchronize,
                SrcuTests::sleepsBetweenChecks), "the scenario above must be able to fail");
    }

    @Test
    void anExpeditedGracePeriodWaitsForAReaderThatBeganBeforeIt() {
        Srcu srcu = new Srcu();
        // An expedited waiter yields instead of sleeping, so its visible state is the flip: after
        // it, the only wait left is the one for the reader's index.
        assertFalse(returnedWhileAReaderFromBeforeWasInside(srcu, srcu::synchronizeExpedited,
                waiter -> srcu.completed() == 1 && srcu.gracePeriodWaiting()),
                "synchronizeExpedited returned while a reader from before it was inside");
    }

    @Test
    void aGracePeriodDoesNotWaitForAReaderThatBeganAfterIt() {
        Srcu srcu = new Srcu();
        int early = srcu.readLock();
        long before = srcu.completed();
        Thread waiter = Thread.ofPlatform().start(srcu::synchronize);
        await("the grace period flipped", () -> srcu.completed() == before + 1);
        CountDownLatch lateInside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread late = Thread.ofPlatform().start(() -> {
            int idx = srcu.readLock();
            lateInside.countDown();
            awaitLatch(release);
            srcu.readUnlock(idx);
        });
        awaitLatch(lateInside);
        srcu.readUnlock(early);
        // The late reader is still inside: the grace period must end anyway.
        join(waiter);
        release.countDown();
        join(late);
    }

    @Test
    void aSynchronizeWithNoReadersReturnsAfterExactlyOneFlip() {
        Srcu srcu = new Srcu();
        for (int i = 0; i < 1000; i++) {
            srcu.synchronizeExpedited();
        }
        assertEquals(1000, srcu.completed(), "one flip per grace period");
    }

    /**
     * A reader loads index 0, stalls, then increments after a grace period found index 0 idle.
     * The next grace period must still wait for it: only the first of the two waits sees it.
     */
    private static boolean nextGracePeriodIgnoresAReaderThatLoadedItsIndexEarly(Srcu srcu) {
        int idx = srcu.readLockLoadIndex();
        srcu.synchronize();
        srcu.readLockIncrement(idx);
        AtomicBoolean readerInside = new AtomicBoolean(true);
        AtomicBoolean returnedEarly = new AtomicBoolean();
        Thread waiter = Thread.ofPlatform().start(() -> {
            srcu.synchronize();
            returnedEarly.set(readerInside.get());
        });
        await("the grace period sleeps waiting for the reader or has returned",
                () -> sleepsBetweenChecks(waiter) || waiter.getState() == Thread.State.TERMINATED);
        readerInside.set(false);
        srcu.readUnlock(idx);
        join(waiter);
        return returnedEarly.get();
    }

    @Test
    void theTwoWaitsCatchAReaderThatLoadedItsIndexBeforeTheFlip() {
        assertFalse(nextGracePeriodIgnoresAReaderThatLoadedItsIndexEarly(new Srcu()));
    }

    @Test
    void theOneFlipVariantReturnsWhileThatReaderIsStillInside() {
        assertTrue(nextGracePeriodIgnoresAReaderThatLoadedItsIndexEarly(new OneFlipSrcu()),
                "the one-flip variant should be caught by this scenario");
    }

    /** Readers dereference a published object; writers replace it, wait a grace period, then free it. */
    @Test
    void manyReadersAndWritersNeverSeeAnObjectFreedInsideTheirReadSection() throws Exception {
        final class Box {
            volatile boolean freed;
        }
        Srcu srcu = new Srcu();
        AtomicReference<Box> pointer = new AtomicReference<>(new Box());
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong violations = new AtomicLong();
        LongAdder reads = new LongAdder();
        LongAdder grace = new LongAdder();
        List<Thread> threads = new ArrayList<>();
        for (int r = 0; r < 6; r++) {
            threads.add(Thread.ofPlatform().start(() -> {
                long n = 0;
                while (!stop.get()) {
                    int idx = srcu.readLock();
                    Box box = pointer.get();
                    for (int spin = 0; spin < (n & 31); spin++) {
                        Thread.onSpinWait();
                    }
                    if ((n & 1023) == 0) {
                        Thread.yield();
                    }
                    if (box.freed) {
                        violations.incrementAndGet();
                    }
                    srcu.readUnlock(idx);
                    reads.increment();
                    n++;
                }
            }));
        }
        for (int w = 0; w < 2; w++) {
            boolean expedited = w == 0;
            threads.add(Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    Box old = pointer.getAndSet(new Box());
                    if (expedited) {
                        srcu.synchronizeExpedited();
                    } else {
                        srcu.synchronize();
                    }
                    old.freed = true;
                    grace.increment();
                }
            }));
        }
        // The amount of work is counted, not timed: the run lasts until both minimums are reached.
        try {
            await("at least " + MIN_READS + " reads and " + MIN_GRACE_PERIODS + " grace periods",
                    () -> reads.sum() >= MIN_READS && grace.sum() >= MIN_GRACE_PERIODS);
        } finally {
            stop.set(true);
            for (Thread t : threads) {
                join(t);
            }
        }
        System.out.println("SRCU stress: " + reads.sum() + " reads, " + grace.sum() + " grace periods");
        assertEquals(0, violations.get(), "a reader saw an object freed during its read section");
    }

    /**
     * Polls {@code fact} until it holds. The bound only turns a hang (a grace period that never
     * ends) into a failure; a loaded machine reaches every fact here far sooner.
     */
    private static void await(String fact, BooleanSupplier holds) {
        long deadline = System.nanoTime() + HANG.toNanos();
        while (!holds.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not after " + HANG.toSeconds() + " s: " + fact);
            }
            LockSupport.parkNanos(POLL_NANOS);
        }
    }

    private static void join(Thread thread) {
        try {
            if (!thread.join(HANG)) {
                throw new AssertionError(thread.getName() + " still runs after " + HANG.toSeconds() + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static void awaitLatch(CountDownLatch latch) {
        try {
            if (!latch.await(HANG.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new AssertionError("the latch stayed closed for " + HANG.toSeconds() + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
