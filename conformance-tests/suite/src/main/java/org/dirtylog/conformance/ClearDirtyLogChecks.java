package org.dirtylog.conformance;

import java.util.List;
import java.util.stream.LongStream;
import org.dirtylog.spi.ClearDirtyLog;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.UserMemory;

/**
 * Checks of {@code KVM_CLEAR_DIRTY_LOG} (api.rst 4.117; semantics §8 C1-C3;
 * {@code kvm_clear_dirty_log_protect}). Each runs in manual-protect mode unless it says otherwise,
 * on a slot of 100 pages: one full bitmap word and a partial one of 36 pages.
 */
final class ClearDirtyLogChecks {

    /** The slot of the table: 100 pages, so the second word is partial. */
    static final long NPAGES = 100;

    private static final int LOG = KvmApi.KVM_MEM_LOG_DIRTY_PAGES;
    private static final long UNMAPPED = GetDirtyLogChecks.UNMAPPED;

    private ClearDirtyLogChecks() {
    }

    /** Returns a logged slot of {@link #NPAGES} pages in manual-protect mode with {@code pages} written and reported. */
    private static Scenario.Slot dirtySlot(Scenario s, long... pages) {
        s.enableManualProtect(ManualProtectChecks.ENABLE);
        Scenario.Slot slot = s.createSlot(NPAGES, LOG);
        s.write(0, slot, pages);
        expectReported(s, slot, UserBitmap.of(NPAGES, LongStream.of(pages).boxed().toList()), "GET after the writes");
        return slot;
    }

    private static void expectReported(Scenario s, Scenario.Slot slot, UserBitmap expected, String what) {
        UserBitmap got = s.getDirtyLog(slot);
        Expect.that(got.equals(expected), what, expected.describe() + (expected.isClean() ? " (all zero)" : ""),
                got.describe());
    }

    /** Returns user memory holding {@code words} as a bitmap, starting at its first byte. */
    private static UserMemory userBitmap(Scenario s, long... words) {
        UserMemory memory = s.mmap(Math.max(8, words.length * 8L));
        new UserBitmap(words.length * 64L, words).writeTo(memory.segment());
        return memory;
    }

    private static ClearDirtyLog clear(Scenario.Slot slot, long firstPage, long numPages, long bitmap) {
        return new ClearDirtyLog(slot.id(), (int) numPages, firstPage, bitmap);
    }

    static void clearsExactlyTheDirtyPagesItNames(Scenario s) {
        Scenario.Slot slot = dirtySlot(s, 0, 2, 63, 64, 65, 70);
        // Pages 2 and 64 are dirty; 5 and 80 are clean and must be ignored.
        s.clearDirtyLog(slot, UserBitmap.of(NPAGES, List.of(2L, 64L, 5L, 80L)));
        expectReported(s, slot, UserBitmap.of(NPAGES, List.of(0L, 63L, 65L, 70L)),
                "GET after KVM_CLEAR_DIRTY_LOG of pages [2, 5, 64, 80] (5 and 80 were clean)");
        s.write(0, slot, 5);
        expectReported(s, slot, UserBitmap.of(NPAGES, List.of(0L, 5L, 63L, 65L, 70L)),
                "GET after writing page 5, whose clean bit the CLEAR named");
    }

    static void clearReArmsTrackingOfWhatItCleared(Scenario s) {
        Scenario.Slot slot = dirtySlot(s, 9, 66);
        UserBitmap both = UserBitmap.of(NPAGES, List.of(9L, 66L));
        for (int round = 1; round <= 3; round++) {
            s.clearDirtyLog(slot, both);
            expectReported(s, slot, UserBitmap.clean(NPAGES), "GET right after clearing pages 9 and 66 (round " + round + ")");
            s.write(0, slot, 9, 66);
            expectReported(s, slot, both, "GET after writing pages 9 and 66 again (round " + round + ")");
        }
    }

    static void rangeChecksAreTheKernels(Scenario s) {
        s.enableManualProtect(ManualProtectChecks.ENABLE);
        Scenario.Slot slot = s.createSlot(NPAGES, LOG);
        Scenario.Slot exact = s.createSlot(128, LOG);
        long ones = userBitmap(s, -1L, -1L).address();
        long[][] ok = {{0, 64}, {64, 36}, {0, 100}, {64, 0}, {0, 0}};
        for (long[] c : ok) {
            Expect.value(s.clearDirtyLog(clear(slot, c[0], c[1], ones)), 0,
                    "first_page " + c[0] + ", num_pages " + c[1] + " on a slot of " + NPAGES + " pages");
        }
        Expect.value(s.clearDirtyLog(clear(exact, 128, 0, ones)), 0,
                "first_page 128, num_pages 0 on a slot of 128 pages (first_page == npages is allowed)");
        long[][] invalid = {{64, 32}, {0, 128}, {0, 99}, {128, 0}, {1, 64}, {32, 64}, {0, 0xffff_ffc0L}, {1L << 63, 0}};
        for (long[] c : invalid) {
            Expect.errno(s.clearDirtyLog(clear(slot, c[0], c[1], ones)), Errno.EINVAL,
                    "first_page " + Long.toUnsignedString(c[0]) + ", num_pages " + c[1] + " on a slot of " + NPAGES + " pages");
        }
    }

    static void errorsInKernelOrder(Scenario s) {
        s.enableManualProtect(ManualProtectChecks.ENABLE);
        Scenario.Slot logged = s.createSlot(NPAGES, LOG);
        Scenario.Slot plain = s.createSlot(NPAGES, 0);
        int absent = s.layout().nextSlotId();
        int nr = s.nrMemslots();
        Expect.errno(s.clearDirtyLog(new ClearDirtyLog(nr, 128, 1, UNMAPPED)), Errno.EINVAL,
                "slot id KVM_CAP_NR_MEMSLOTS, first_page 1, num_pages 128, unmapped bitmap (the slot id is checked first)");
        Expect.errno(s.clearDirtyLog(new ClearDirtyLog(MemslotChecks.NO_ADDRESS_SPACE | logged.id(), 64, 0, UNMAPPED)),
                Errno.EINVAL, "slot " + logged.id() + " in address space 0x7fff");
        Expect.errno(s.clearDirtyLog(new ClearDirtyLog(absent, 64, 1, UNMAPPED)), Errno.EINVAL,
                "a slot that does not exist with first_page 1 (first_page & 63 is checked before the slot lookup)");
        Expect.errno(s.clearDirtyLog(new ClearDirtyLog(absent, 128, 0, UNMAPPED)), Errno.ENOENT,
                "a slot that does not exist with num_pages 128 (the lookup comes before the range check)");
        Expect.errno(s.clearDirtyLog(new ClearDirtyLog(plain.id(), 128, 0, UNMAPPED)), Errno.ENOENT,
                "a slot with logging off, num_pages 128, unmapped bitmap");
        Expect.errno(s.clearDirtyLog(clear(logged, 0, 128, UNMAPPED)), Errno.EINVAL,
                "a logged slot, num_pages 128, unmapped bitmap (the range check comes before reading the bitmap)");
        Expect.errno(s.clearDirtyLog(clear(logged, 0, 64, UNMAPPED)), Errno.EFAULT, "a logged slot with an unmapped bitmap");
    }

    static void readsExactlyTheBitmapsBytes(Scenario s) {
        Scenario.Slot slot = dirtySlot(s, 1, 64, 99);
        UserMemory page = s.pageBeforeAHole();
        long end = page.address() + KvmApi.PAGE_SIZE;
        page.segment().fill((byte) 0);
        // num_pages 0 reads nothing: neither an unmapped pointer nor one right at the hole faults.
        Expect.value(s.clearDirtyLog(clear(slot, 0, 0, UNMAPPED)), 0, "num_pages 0 with an unmapped bitmap");
        Expect.value(s.clearDirtyLog(clear(slot, 64, 0, end)), 0, "num_pages 0 with the bitmap right at the hole");
        // first_page 64, num_pages 36: one word, the 8 bytes right before the hole; bit 35 is page 99.
        new UserBitmap(64, new long[] {1L << 35}).writeTo(page.segment().asSlice(KvmApi.PAGE_SIZE - 8));
        Expect.value(s.clearDirtyLog(clear(slot, 64, 36, end - 8)), 0,
                "first_page 64, num_pages 36, the 8-byte bitmap ending right before an unmapped page");
        expectReported(s, slot, UserBitmap.of(NPAGES, List.of(1L, 64L)), "GET after clearing page 99 that way");
        // num_pages 100: two words, the 16 bytes right before the hole.
        new UserBitmap(128, new long[] {1L << 1, 1L}).writeTo(page.segment().asSlice(KvmApi.PAGE_SIZE - 16));
        Expect.value(s.clearDirtyLog(clear(slot, 0, 100, end - 16)), 0,
                "first_page 0, num_pages 100, the 16-byte bitmap ending right before an unmapped page");
        expectReported(s, slot, UserBitmap.clean(NPAGES), "GET after clearing pages 1 and 64 that way");
        s.write(0, slot, 3);
        Expect.errno(s.clearDirtyLog(clear(slot, 0, 100, end - 8)), Errno.EFAULT,
                "num_pages 100 with only 8 of its 16 bytes mapped");
        expectReported(s, slot, UserBitmap.of(NPAGES, List.of(3L)), "GET after that -EFAULT");
    }

    static void thePartialLastWordIsProcessed(Scenario s) {
        long[] tail = LongStream.range(64, NPAGES).toArray();
        Scenario.Slot slot = dirtySlot(s, LongStream.concat(LongStream.of(0, 63), LongStream.of(tail)).toArray());
        // One word for pages 64-99 with every bit set, bits 36-63 (past the slot's end) included.
        long word = userBitmap(s, -1L).address();
        Expect.value(s.clearDirtyLog(clear(slot, 64, 36, word)), 0, "first_page 64, num_pages 36, all 64 bits set");
        expectReported(s, slot, UserBitmap.of(NPAGES, List.of(0L, 63L)),
                "GET after clearing the partial last word (pages 64-99; bits past the slot's end ignored)");
        s.write(0, slot, 64, 99);
        expectReported(s, slot, UserBitmap.of(NPAGES, List.of(0L, 63L, 64L, 99L)), "GET after writing pages 64 and 99 again");
        Expect.value(s.clearDirtyLog(clear(slot, 0, 100, userBitmap(s, 0, -1L).address())), 0,
                "first_page 0, num_pages 100, the second word all set");
        expectReported(s, slot, UserBitmap.of(NPAGES, List.of(0L, 63L)), "GET after clearing the second word as part of the whole slot");
    }

    static void aFailedClearChangesNothing(Scenario s) {
        long[] dirty = {1, 2, 63, 64, 70, 99};
        Scenario.Slot slot = dirtySlot(s, dirty);
        UserBitmap expected = UserBitmap.of(NPAGES, LongStream.of(dirty).boxed().toList());
        Scenario.Slot plain = s.createSlot(NPAGES, 0);
        int absent = s.layout().nextSlotId();
        long ones = userBitmap(s, -1L, -1L).address();
        UserMemory page = s.pageBeforeAHole();
        page.segment().fill((byte) 0xff);
        long straddling = page.address() + KvmApi.PAGE_SIZE - 8;
        List<ClearDirtyLog> failing = List.of(
                new ClearDirtyLog(s.nrMemslots(), 100, 0, ones),
                new ClearDirtyLog(MemslotChecks.NO_ADDRESS_SPACE | slot.id(), 100, 0, ones),
                clear(slot, 1, 64, ones),
                new ClearDirtyLog(absent, 100, 0, ones),
                new ClearDirtyLog(plain.id(), 100, 0, ones),
                clear(slot, 64, 32, ones),
                clear(slot, 0, 128, ones),
                clear(slot, 0, 100, UNMAPPED),
                clear(slot, 0, 100, straddling));
        for (ClearDirtyLog log : failing) {
            IoctlResult<Integer> r = s.clearDirtyLog(log);
            Expect.that(!r.isOk(), "a KVM_CLEAR_DIRTY_LOG that must fail", "an errno", CallText.show(r));
            expectReported(s, slot, expected, "GET after the failed call (every bitmap word it was given was all ones)");
        }
        s.clearDirtyLog(slot, expected);
        s.write(0, slot, 2, 99);
        expectReported(s, slot, UserBitmap.of(NPAGES, List.of(2L, 99L)), "GET after a valid CLEAR and writes to pages 2 and 99");
    }

    static void clearWorksWithManualProtectOff(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, LOG);
        s.write(0, slot, 3, 70);
        s.clearDirtyLog(slot, UserBitmap.of(NPAGES, List.of(3L)));
        expectReported(s, slot, UserBitmap.of(NPAGES, List.of(70L)), "GET (manual protect off) after clearing page 3");
        expectReported(s, slot, UserBitmap.clean(NPAGES), "the next GET (manual protect off: GET clears)");
        s.write(0, slot, 3);
        expectReported(s, slot, UserBitmap.of(NPAGES, List.of(3L)), "GET after writing page 3, which only CLEAR re-armed");
    }
}
