package org.dirtylog.conformance;

import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.UserDirtyLog;

/** Checks of the RFC's {@code KVM_GET_USER_DIRTY_LOG_ADDR} (4.39). */
final class UserDirtyLogAddrChecks {

    /** Pages of the slots these checks create: 2^6 + 3, so the last bitmap word is partial. */
    static final long NPAGES = 67;

    private UserDirtyLogAddrChecks() {
    }

    static void logSlotHasTwoDistinctCleanBitmaps(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        IoctlResult<UserDirtyLog> r = s.userDirtyLogAddr(slot.id());
        Expect.that(r.isOk(), "KVM_GET_USER_DIRTY_LOG_ADDR on a logged slot", "0", CallText.show(r));
        UserDirtyLog log = r.value();
        Expect.that(log.dirtyBitmap() != 0 && log.dirtyBitmapOld() != 0 && log.dirtyBitmap() != log.dirtyBitmapOld(),
                "the two bitmap addresses", "two distinct non-zero addresses",
                "0x" + Long.toHexString(log.dirtyBitmap()) + " and 0x" + Long.toHexString(log.dirtyBitmapOld()));
        long bytes = KvmApi.dirtyBitmapBytes(NPAGES);
        Expect.that(Math.abs(log.dirtyBitmap() - log.dirtyBitmapOld()) >= bytes, "the two bitmaps",
                "not overlapping (" + bytes + " bytes each)", "addresses " + Math.abs(log.dirtyBitmap() - log.dirtyBitmapOld())
                        + " bytes apart");
        UserBitmap active = s.readUserBitmap(log.dirtyBitmap(), NPAGES, "dirty_bitmap");
        UserBitmap old = s.readUserBitmap(log.dirtyBitmapOld(), NPAGES, "dirty_bitmap_old");
        Expect.that(active.isClean() && old.isClean(), "bitmaps of a fresh logged slot", "all zero",
                "dirty_bitmap " + active.describe() + ", dirty_bitmap_old " + old.describe());
    }

    static void slotOutOfRangeIsInvalid(Scenario s) {
        Expect.errno(s.userDirtyLogAddr(s.nrMemslots()), Errno.EINVAL,
                "KVM_GET_USER_DIRTY_LOG_ADDR(slot=KVM_CAP_NR_MEMSLOTS)");
        Expect.errno(s.userDirtyLogAddr(MemslotChecks.NO_ADDRESS_SPACE), Errno.EINVAL,
                "KVM_GET_USER_DIRTY_LOG_ADDR with address space 0x7fff");
    }

    static void slotWithoutLogIsNoEntry(Scenario s) {
        Expect.errno(s.userDirtyLogAddr(0), Errno.ENOENT, "KVM_GET_USER_DIRTY_LOG_ADDR on a slot that does not exist");
        Scenario.Slot slot = s.createSlot(NPAGES, 0);
        Expect.errno(s.userDirtyLogAddr(slot.id()), Errno.ENOENT,
                "KVM_GET_USER_DIRTY_LOG_ADDR on a slot without KVM_MEM_LOG_DIRTY_PAGES");
    }

    static void unmappedArgumentIsFault(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        Expect.errno(s.getUserDirtyLogAddr(GetDirtyLogChecks.UNMAPPED, "argp=0x1000 (unmapped)"), Errno.EFAULT,
                "KVM_GET_USER_DIRTY_LOG_ADDR with an unmapped argument");
        IoctlResult<UserDirtyLog> r = s.userDirtyLogAddr(slot.id());
        Expect.that(r.isOk(), "KVM_GET_USER_DIRTY_LOG_ADDR after the -EFAULT", "0", CallText.show(r));
    }

    static void addressesSurviveSwitches(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        UserDirtyLog before = s.userDirtyLogAddrOf(slot);
        for (int i = 0; i < 3; i++) {
            s.write(0, slot, i);
            Expect.value(s.switchDirtyLog(slot.id()), 0, "KVM_SWITCH_DIRTY_LOG after a write");
            IoctlResult<UserDirtyLog> r = s.userDirtyLogAddr(slot.id());
            Expect.that(r.isOk(), "KVM_GET_USER_DIRTY_LOG_ADDR after a switch", "0", CallText.show(r));
            UserDirtyLog now = r.value();
            boolean same = (now.dirtyBitmap() == before.dirtyBitmap() && now.dirtyBitmapOld() == before.dirtyBitmapOld())
                    || (now.dirtyBitmap() == before.dirtyBitmapOld() && now.dirtyBitmapOld() == before.dirtyBitmap());
            Expect.that(same, "bitmap addresses after switch " + (i + 1),
                    "{0x" + Long.toHexString(before.dirtyBitmap()) + ", 0x" + Long.toHexString(before.dirtyBitmapOld()) + "}",
                    "{0x" + Long.toHexString(now.dirtyBitmap()) + ", 0x" + Long.toHexString(now.dirtyBitmapOld()) + "}");
        }
    }
}
