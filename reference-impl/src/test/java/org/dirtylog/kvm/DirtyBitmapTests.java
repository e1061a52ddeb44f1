package org.dirtylog.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.dirtylog.spi.KvmApi;
import org.junit.jupiter.api.Test;

class DirtyBitmapTests {

    private static byte userByte(DirtyBitmap bitmap, long offset) {
        // Native memory: read through the raw address, the way user space does after GET_USER_DIRTY_LOG_ADDR.
        return MemorySegment.ofAddress(bitmap.address()).reinterpret(bitmap.byteSize()).get(ValueLayout.JAVA_BYTE, offset);
    }

    @Test
    void theSizeIsAlignNpages64Over8ForAnyPageCount() {
        qt().withFixedSeed(2010).forAll(integers().between(1, 200_000)).checkAssert(npages -> {
            try (DirtyBitmap bitmap = DirtyBitmap.allocate(npages)) {
                assertEquals(((npages + 63L) / 64) * 8, bitmap.byteSize());
                assertEquals(KvmApi.dirtyBitmapBytes(npages), bitmap.byteSize());
            }
        });
    }

    @Test
    void pageBitsAreLittleEndianInsideSixtyFourBitWordsAtTheExportedAddress() {
        try (DirtyBitmap bitmap = DirtyBitmap.allocate(200)) {
            bitmap.set(0);
            bitmap.set(9);
            bitmap.set(63);
            bitmap.set(64);
            bitmap.set(130);
            assertEquals(0x01, userByte(bitmap, 0) & 0xff);
            assertEquals(0x02, userByte(bitmap, 1) & 0xff);
            assertEquals(0x80, userByte(bitmap, 7) & 0xff);
            assertEquals(0x01, userByte(bitmap, 8) & 0xff);
            assertEquals(0x04, userByte(bitmap, 16) & 0xff);
            assertEquals(5, bitmap.cardinality());
        }
    }

    @Test
    void setPagesAreExactlyTheBitsThatReadBackAndNothingPastNpagesIsEverSet() {
        qt().withFixedSeed(55).forAll(integers().between(1, 5000), lists().of(integers().between(0, 4999)).ofSizeBetween(0, 300))
                .checkAssert((npages, pages) -> {
                    try (DirtyBitmap bitmap = DirtyBitmap.allocate(npages)) {
                        BitSet expected = new BitSet();
                        for (int p : pages) {
                            if (p < npages) {
                                bitmap.set(p);
                                expected.set(p);
                            }
                        }
                        for (long page = 0; page < bitmap.byteSize() * 8; page++) {
                            assertEquals(page < npages && expected.get((int) page), bitmap.test(page), "page " + page);
                        }
                        assertEquals(!expected.isEmpty(), bitmap.isDirty());
                        bitmap.clear();
                        assertEquals(0, bitmap.cardinality());
                        assertFalse(bitmap.isDirty());
                    }
                });
    }

    @Test
    void aBitmapForASixtyFourGibSlotIsTwoMibAndItsLastPageIsAddressable() {
        long npages = (64L << 30) / KvmApi.PAGE_SIZE;
        try (DirtyBitmap bitmap = DirtyBitmap.allocate(npages)) {
            assertEquals(2L << 20, bitmap.byteSize());
            bitmap.set(npages - 1);
            assertEquals((byte) 0x80, userByte(bitmap, bitmap.byteSize() - 1));
            bitmap.clear();
            assertEquals(0, userByte(bitmap, bitmap.byteSize() - 1));
        }
    }

    /** The 50e92b3c bug: a load and a separate store of the word. */
    private static long setBitsWithoutAtomicity(MemorySegment bits, long byteOffset, long mask) {
        long old = bits.get(ValueLayout.JAVA_LONG, byteOffset);
        bits.set(ValueLayout.JAVA_LONG, byteOffset, old | mask);
        return old;
    }

    /**
     * Runs rounds of four threads, released together, each setting every fourth page of a fresh
     * bitmap (so all four share every word), until {@code minRounds} rounds are done and, when
     * {@code untilLost}, a bit was lost (at most {@code maxRounds}); returns the bits lost.
     */
    private static long concurrentSetsOnSharedWords(DirtyBitmap.WordUpdate wordUpdate, int minRounds, int maxRounds,
                                                    boolean untilLost) throws InterruptedException {
        int threads = 4;
        int npages = 1 << 12;
        long lost = 0;
        for (int round = 0; round < maxRounds && (round < minRounds || untilLost && lost == 0); round++) {
            try (DirtyBitmap bitmap = DirtyBitmap.allocate(npages, true, wordUpdate)) {
                CountDownLatch start = new CountDownLatch(1);
                List<Thread> workers = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int lane = t;
                    workers.add(Thread.ofPlatform().start(() -> {
                        awaitQuietly(start);
                        for (int p = lane; p < npages; p += threads) {
                            bitmap.set(p);
                        }
                    }));
                }
                start.countDown();
                for (Thread w : workers) {
                    w.join();
                }
                lost += npages - bitmap.cardinality();
            }
        }
        return lost;
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void concurrentSetsOfPagesInTheSameWordNeverLoseABit() throws InterruptedException {
        assertEquals(0, concurrentSetsOnSharedWords(DirtyBitmap.ATOMIC_OR, 256, 256, false));
    }

    /** The same rounds with the 50e92b3c word update lose a bit; it ends at the first loss, the cap only guards a hang. */
    @Test
    void theSameTestCatchesTheNonAtomicSetOf50e92b3c() throws InterruptedException {
        assertTrue(concurrentSetsOnSharedWords(DirtyBitmapTests::setBitsWithoutAtomicity, 1, 1_000_000, true) > 0,
                "a plain read-modify-write should lose bits under contention");
    }

    @Test
    void aClearAfterMoreDirtyWordsThanTheLogHoldsStillZeroesEverything() {
        try (DirtyBitmap bitmap = DirtyBitmap.allocate(640)) {
            for (long p = 0; p < 640; p++) {
                bitmap.set(p);
            }
            long nonTracked = 0;
            for (long w = 0; w < 10; w++) {
                nonTracked += bitmap.takeWord(w) != 0 ? 1 : 0;
                bitmap.orWord(w, 1L);
            }
            assertEquals(10, nonTracked);
            bitmap.clear();
            assertEquals(0, bitmap.cardinality());
        }
    }

    @Test
    void aFreedBitmapThrowsInsteadOfBeingSilentlyUsed() {
        DirtyBitmap bitmap = DirtyBitmap.allocate(64);
        MemorySegment view = bitmap.segment();
        bitmap.close();
        assertTrue(bitmap.isFreed());
        assertThrows(IllegalStateException.class, () -> bitmap.set(3));
        assertThrows(IllegalStateException.class, () -> view.get(ValueLayout.JAVA_LONG, 0));
        bitmap.close();
    }
}
