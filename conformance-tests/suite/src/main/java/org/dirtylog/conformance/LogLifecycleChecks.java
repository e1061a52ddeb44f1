package org.dirtylog.conformance;

import java.util.List;
import java.util.stream.LongStream;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserDirtyLog;
import org.dirtylog.spi.UserMemory;

/** Checks of the {@code KVM_MEM_LOG_DIRTY_PAGES} lifecycle (api.rst 4.35, semantics §3). */
final class LogLifecycleChecks {

    private static final long NPAGES = UserDirtyLogAddrChecks.NPAGES;
    private static final int LOG = KvmApi.KVM_MEM_LOG_DIRTY_PAGES;

    private LogLifecycleChecks() {
    }

    static void loggingStartsWithACleanBitmap(Scenario s) {
        Scenario.Slot logged = s.createSlot(NPAGES, LOG);
        UserBitmap fresh = s.getDirtyLog(logged);
        Expect.that(fresh.isClean(), "GET on a slot just created with logging", "all zero", fresh.describe());
        Scenario.Slot plain = s.createSlot(NPAGES, 0);
        s.write(0, plain, 0, 1, 2, 64, 66);
        Expect.value(s.setUserMemoryRegion(plain.region().withFlags(LOG)), 0, "turning logging on");
        UserBitmap enabled = s.getDirtyLog(plain);
        Expect.that(enabled.isClean(), "GET right after turning logging on (pages were written before)",
                "all zero", enabled.describe());
    }

    static void offAndOnLeavesNoStaleBits(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, LOG);
        s.write(0, slot, 3, 4, 66);
        Expect.value(s.setUserMemoryRegion(slot.region().withFlags(0)), 0, "turning logging off");
        UserMemory buffer = s.mmap(KvmApi.dirtyBitmapBytes(NPAGES));
        Expect.errno(s.getDirtyLog(slot.id(), buffer.address()), Errno.ENOENT, "KVM_GET_DIRTY_LOG with logging off");
        Expect.value(s.setUserMemoryRegion(slot.region()), 0, "turning logging on again");
        UserBitmap got = s.getDirtyLog(slot);
        Expect.that(got.isClean(), "GET after logging off and on (pages [3, 4, 66] were dirty before)", "all zero",
                got.describe());
        s.write(0, slot, 5);
        UserBitmap later = s.getDirtyLog(slot);
        UserBitmap expected = UserBitmap.of(NPAGES, List.of(5L));
        Expect.that(later.equals(expected), "GET after a write with logging on again", expected.describe(), later.describe());
    }

    static void writesRightAfterEnablingAreReported(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, 0);
        long[] all = LongStream.range(0, NPAGES).toArray();
        for (int round = 1; round <= 3; round++) {
            s.write(0, slot, all);
            Expect.value(s.setUserMemoryRegion(slot.region().withFlags(LOG)), 0, "turning logging on (round " + round + ")");
            s.write(0, slot, 8, 65);
            UserBitmap got = s.getDirtyLog(slot);
            UserBitmap expected = UserBitmap.of(NPAGES, List.of(8L, 65L));
            Expect.that(got.equals(expected), "GET after writes just after enabling (round " + round + ")",
                    expected.describe(), got.describe());
            Expect.value(s.setUserMemoryRegion(slot.region()), 0, "turning logging off (round " + round + ")");
        }
    }

    static void moveKeepsPendingBits(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, LOG);
        s.write(0, slot, 12, 66);
        long newGpa = s.layout().allocateGpa(NPAGES * KvmApi.PAGE_SIZE);
        MemoryRegion moved = slot.region().movedTo(newGpa);
        Expect.value(s.setUserMemoryRegion(moved), 0, "moving the logged slot");
        Scenario.Slot at = slot.movedTo(newGpa);
        s.write(0, at, 13);
        IoctlResult<Integer> old = s.runWrites(0, List.of(new GuestWrite(slot.gpaOf(14), 1)), "page 14 at the old address");
        Expect.errno(old, Errno.EFAULT, "guest write at the slot's old address");
        UserBitmap got = s.getDirtyLog(at);
        UserBitmap expected = UserBitmap.of(NPAGES, List.of(12L, 13L, 66L));
        Expect.that(got.equals(expected), "GET after the move (12, 66 before it, 13 after)", expected.describe(),
                got.describe());
    }

    static void deleteLosesBits(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, LOG);
        s.write(0, slot, 20, 21);
        Expect.value(s.setUserMemoryRegion(slot.region().deletion()), 0, "deleting the logged slot");
        Expect.value(s.setUserMemoryRegion(slot.region()), 0, "re-creating the slot id");
        UserBitmap got = s.getDirtyLog(slot);
        Expect.that(got.isClean(), "GET on the re-created slot", "all zero", got.describe());
    }

    static void offAndOnGivesFreshRfcBitmaps(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, LOG);
        Harvester before = Harvester.Style.SWITCH.on(s, slot);
        s.write(0, slot, 3, 64);
        before.harvest();
        s.write(0, slot, 4, 66);
        Expect.value(s.setUserMemoryRegion(slot.region().withFlags(0)), 0, "turning logging off");
        Expect.value(s.setUserMemoryRegion(slot.region()), 0, "turning logging on again");
        UserDirtyLog addr = s.userDirtyLogAddrOf(slot);
        UserBitmap active = s.readUserBitmap(addr.dirtyBitmap(), NPAGES, "dirty_bitmap after off/on");
        UserBitmap old = s.readUserBitmap(addr.dirtyBitmapOld(), NPAGES, "dirty_bitmap_old after off/on");
        Expect.that(active.isClean() && old.isClean(), "both bitmaps after logging off and on "
                + "(pages [3, 64] were harvested and [4, 66] pending before)", "all zero",
                "dirty_bitmap " + active.describe() + ", dirty_bitmap_old " + old.describe());
        Harvester after = Harvester.Style.SWITCH.on(s, slot);
        s.write(0, slot, 5);
        UserBitmap got = after.harvest();
        UserBitmap expected = UserBitmap.of(NPAGES, List.of(5L));
        Expect.that(got.equals(expected), "first switch after the off/on cycle and a write to page 5",
                expected.describe(), got.describe());
    }
}
