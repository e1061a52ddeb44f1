package org.dirtylog.perturbation;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.function.IntUnaryOperator;

/**
 * A lost-bit race in a natural window, the third bug class of the issue in miniature: a writer
 * sets bits of a native word with an atomic OR while a harvester copies the word and then
 * clears it with a plain store, losing a bit set in between. The writer spends about 2 us
 * between two bits and the harvester harvests four times per round, so the few-nanosecond
 * window is rarely hit without help. Returns the bits lost in {@code rounds} rounds of 64 bits.
 */
public final class ToyRace implements IntUnaryOperator {

    private static final VarHandle WORD = ValueLayout.JAVA_LONG.varHandle();

    @Override
    public int applyAsInt(int rounds) {
        int lost = 0;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment word = arena.allocate(8, 8);
            for (int round = 0; round < rounds; round++) {
                long[] harvested = {0};
                Thread writer = Thread.ofPlatform().start(() -> {
                    for (int bit = 0; bit < 64; bit++) {
                        work(2_000);
                        WORD.getAndBitwiseOr(word, 0L, 1L << bit);
                    }
                });
                for (int h = 0; h < 4 && writer.isAlive(); h++) {
                    work(30_000);
                    long w = (long) WORD.getVolatile(word, 0L);
                    harvested[0] |= w;
                    WORD.setVolatile(word, 0L, 0L);
                }
                join(writer);
                harvested[0] |= (long) WORD.getVolatile(word, 0L);
                WORD.setVolatile(word, 0L, 0L);
                lost += 64 - Long.bitCount(harvested[0]);
            }
        }
        return lost;
    }

    /** Computation that is not a window: spins for about {@code nanos}. */
    private static void work(long nanos) {
        long until = System.nanoTime() + nanos;
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
