package org.dirtylog.arch.linuxkvm;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Test helper: waits for facts the code under test makes observable (a write count, a value in
 * guest memory, a thread's end), never for a span of time. The bound only turns a hang into a
 * failure; on a loaded machine every fact here arrives within seconds.
 */
final class Await {

    /** How long a fact may take before the test calls it a hang. */
    static final Duration HANG = Duration.ofMinutes(2);
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private Await() {
    }

    /** Returns once {@code holds} is true; fails the test naming {@code fact} after {@link #HANG}. */
    static void until(String fact, BooleanSupplier holds) {
        long deadline = System.nanoTime() + HANG.toNanos();
        while (!holds.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not after " + HANG.toSeconds() + " s: " + fact);
            }
            LockSupport.parkNanos(POLL_NANOS);
        }
    }

    /** Returns once {@code thread} has ended; fails the test after {@link #HANG}. */
    static void join(Thread thread) throws InterruptedException {
        if (!thread.join(HANG)) {
            throw new AssertionError(thread.getName() + " still runs after " + HANG.toSeconds() + " s");
        }
    }
}
