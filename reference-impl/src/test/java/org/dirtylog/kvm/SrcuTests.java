package org.dirtylog.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class SrcuTests {

    private static final long STRESS_MILLIS = 1500;
    private static final long STRESS_CAP_MILLIS = 15_000;
    private static final long MIN_READS = 1_000_000;
    private static final long MIN_GRACE_PERIODS = 300;

    /** The known-wrong variant of the spec: one flip and one wait. */
    static final class OneFlipSrcu extends Srcu {
        @Override
        protected void flipAndWait(boolean expedited) {
            flip();
            waitIdx(1 - readLockLoadIndex(), expedited);
        }
    }

    @Test
    void aGracePeriodWaitsForAReaderThatBeganBeforeIt() throws Exception {
        Srcu srcu = new Srcu();
        int idx = srcu.readLock();
        CompletableFuture<Void> sync = CompletableFuture.runAsync(srcu::synchronize);
        Thread.sleep(100);
        assertFalse(sync.isDone(), "synchronize returned while a reader from before it was inside");
        srcu.readUnlock(idx);
        sync.get(5, TimeUnit.SECONDS);
    }

    @Test
    void anExpeditedGracePeriodWaitsForAReaderThatBeganBeforeIt() throws Exception {
        Srcu srcu = new Srcu();
        int idx = srcu.readLock();
        CompletableFuture<Void> sync = CompletableFuture.runAsync(srcu::synchronizeExpedited);
        Thread.sleep(100);
        assertFalse(sync.isDone());
        srcu.readUnlock(idx);
        sync.get(5, TimeUnit.SECONDS);
    }

    @Test
    void aGracePeriodDoesNotWaitForAReaderThatBeganAfterIt() throws Exception {
        Srcu srcu = new Srcu();
        int early = srcu.readLock();
        long before = srcu.completed();
        CompletableFuture<Void> sync = CompletableFuture.runAsync(srcu::synchronize);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (srcu.completed() == before && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(before + 1, srcu.completed(), "the grace period never flipped");
        CountDownLatch lateInside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread late = Thread.ofPlatform().start(() -> {
            int idx = srcu.readLock();
            lateInside.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            srcu.readUnlock(idx);
        });
        lateInside.await();
        srcu.readUnlock(early);
        sync.get(5, TimeUnit.SECONDS);
        release.countDown();
        late.join();
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
    private static boolean nextGracePeriodIgnoresAReaderThatLoadedItsIndexEarly(Srcu srcu) throws Exception {
        int idx = srcu.readLockLoadIndex();
        srcu.synchronize();
        srcu.readLockIncrement(idx);
        CompletableFuture<Void> sync = CompletableFuture.runAsync(srcu::synchronize);
        boolean returnedEarly;
        try {
            sync.get(1, TimeUnit.SECONDS);
            returnedEarly = true;
        } catch (TimeoutException stillWaiting) {
            returnedEarly = false;
        }
        srcu.readUnlock(idx);
        sync.get(5, TimeUnit.SECONDS);
        return returnedEarly;
    }

    @Test
    void theTwoWaitsCatchAReaderThatLoadedItsIndexBeforeTheFlip() throws Exception {
        assertFalse(nextGracePeriodIgnoresAReaderThatLoadedItsIndexEarly(new Srcu()));
    }

    @Test
    void theOneFlipVariantReturnsWhileThatReaderIsStillInside() throws Exception {
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
        // At least STRESS_MILLIS and the minimums; the cap only ends a run on a stalled machine.
        long start = System.nanoTime();
        long elapsed;
        do {
            Thread.sleep(50);
            elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        } while ((elapsed < STRESS_MILLIS || reads.sum() < MIN_READS || grace.sum() < MIN_GRACE_PERIODS)
                && elapsed < STRESS_CAP_MILLIS);
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        System.out.println("SRCU stress: " + reads.sum() + " reads, " + grace.sum() + " grace periods in " + elapsed + " ms");
        assertEquals(0, violations.get(), "a reader saw an object freed during its read section");
        assertTrue(reads.sum() >= MIN_READS, "too few reads to mean anything in " + elapsed + " ms: " + reads.sum());
        assertTrue(grace.sum() >= MIN_GRACE_PERIODS, "too few grace periods in " + elapsed + " ms: " + grace.sum());
    }
}
