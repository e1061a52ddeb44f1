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

    @Checks("SLOT-LOG-01")
    static void loggingStartsWithACleanBitmap(Scenario s) {
        Scenario.Slot logged = s.createSlot(NPAGES, LOG);
        DirtyBitmap fresh = s.getDirtyLog(logged);
        Scenario.expect(fresh.isClean(), "GET on a slot just created with logging", "all zero", fresh.describe());
        Scenario.Slot plain = s.createSlot(NPAGES, 0);
        s.write(0, plain, 0, 1, 2, 64, 66);
        Scenario.expectValue(s.setUserMemoryRegion(plain.region().withFlags(LOG)), 0, "turning logging on");
        DirtyBitmap enabled = s.getDirtyLog(plain);
        Scenario.expect(enabled.isClean(), "GET right after turning logging on (pages were written before)",
                "all zero", enabled.describe());
    }

    @Checks("SLOT-LOG-02")
    static void offAndOnLeavesNoStaleBits(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, LOG);
        s.write(0, slot, 3, 4, 66);
        Scenario.expectValue(s.setUserMemoryRegion(slot.region().withFlags(0)), 0, "turning logging off");
        UserMemory buffer = s.mmap(KvmApi.dirtyBitmapBytes(NPAGES));
        Scenario.expectErrno(s.getDirtyLog(slot.id(), buffer.address()), Errno.ENOENT, "KVM_GET_DIRTY_LOG with logging off");
        Scenario.expectValue(s.setUserMemoryRegion(slot.region()), 0, "turning logging on again");
        DirtyBitmap got = s.getDirtyLog(slot);
        Scenario.expect(got.isClean(), "GET after logging off and on (pages [3, 4, 66] were dirty before)", "all zero",
                got.describe());
        s.write(0, slot, 5);
        DirtyBitmap later = s.getDirtyLog(slot);
        DirtyBitmap expected = DirtyBitmap.of(NPAGES, List.of(5L));
        Scenario.expect(later.equals(expected), "GET after a write with logging on again", expected.describe(), later.describe());
    }

    @Checks("SLOT-LOG-03")
    static void writesRightAfterEnablingAreReported(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, 0);
        long[] all = LongStream.range(0, NPAGES).toArray();
        for (int round = 1; round <= 3; round++) {
            s.write(0, slot, all);
            Scenario.expectValue(s.setUserMemoryRegion(slot.region().withFlags(LOG)), 0, "turning logging on (round " + round + ")");
            s.write(0, slot, 8, 65);
            DirtyBitmap got = s.getDirtyLog(slot);
            DirtyBitmap expected = DirtyBitmap.of(NPAGES, List.of(8L, 65L));
            Scenario.expect(got.equals(expected), "GET after writes just after enabling (round " + round + ")",
                    expected.describe(), got.describe());
            Scenario.expectValue(s.setUserMemoryRegion(slot.region()), 0, "turning logging off (round " + round + ")");
        }
    }

    @Checks("SLOT-LOG-04")
    static void moveKeepsPendingBits(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, LOG);
        s.write(0, slot, 12, 66);
        long newGpa = s.allocateGpa(NPAGES * KvmApi.PAGE_SIZE);
        MemoryRegion moved = slot.region().movedTo(newGpa);
        Scenario.expectValue(s.setUserMemoryRegion(moved), 0, "moving the logged slot");
        Scenario.Slot at = slot.movedTo(newGpa);
        s.write(0, at, 13);
        IoctlResult<Integer> old = s.runWrites(0, List.of(new GuestWrite(slot.gpaOf(14), 1)), "page 14 at the old address");
        Scenario.expectErrno(old, Errno.EFAULT, "guest write at the slot's old address");
        DirtyBitmap got = s.getDirtyLog(at);
        DirtyBitmap expected = DirtyBitmap.of(NPAGES, List.of(12L, 13L, 66L));
        Scenario.expect(got.equals(expected), "GET after the move (12, 66 before it, 13 after)", expected.describe(),
                got.describe());
    }

    @Checks("SLOT-LOG-05")
    static void deleteLosesBits(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, LOG);
        s.write(0, slot, 20, 21);
        Scenario.expectValue(s.setUserMemoryRegion(slot.region().deletion()), 0, "deleting the logged slot");
        Scenario.expectValue(s.setUserMemoryRegion(slot.region()), 0, "re-creating the slot id");
        DirtyBitmap got = s.getDirtyLog(slot);
        Scenario.expect(got.isClean(), "GET on the re-created slot", "all zero", got.describe());
    }

    @Checks("SLOT-LOG-06")
    static void offAndOnGivesFreshRfcBitmaps(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, LOG);
        Harvester before = Harvester.Style.SWITCH.on(s, slot);
        s.write(0, slot, 3, 64);
        before.harvest();
        s.write(0, slot, 4, 66);
        Scenario.expectValue(s.setUserMemoryRegion(slot.region().withFlags(0)), 0, "turning logging off");
        Scenario.expectValue(s.setUserMemoryRegion(slot.region()), 0, "turning logging on again");
        UserDirtyLog addr = s.userDirtyLogAddrOf(slot);
        DirtyBitmap active = s.readUserBitmap(addr.dirtyBitmap(), NPAGES, "dirty_bitmap after off/on");
        DirtyBitmap old = s.readUserBitmap(addr.dirtyBitmapOld(), NPAGES, "dirty_bitmap_old after off/on");
        Scenario.expect(active.isClean() && old.isClean(), "both bitmaps after logging off and on "
                + "(pages [3, 64] were harvested and [4, 66] pending before)", "all zero",
                "dirty_bitmap " + active.describe() + ", dirty_bitmap_old " + old.describe());
        Harvester after = Harvester.Style.SWITCH.on(s, slot);
        s.write(0, slot, 5);
        DirtyBitmap got = after.harvest();
        DirtyBitmap expected = DirtyBitmap.of(NPAGES, List.of(5L));
        Scenario.expect(got.equals(expected), "first switch after the off/on cycle and a write to page 5",
                expected.describe(), got.describe());
    }
}
