package org.dirtylog.conformance;

import java.util.List;
import java.util.stream.LongStream;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.UserDirtyLog;

/** Checks of the RFC's {@code KVM_SWITCH_DIRTY_LOG} (4.40). */
final class SwitchDirtyLogChecks {

    private static final long NPAGES = UserDirtyLogAddrChecks.NPAGES;

    private SwitchDirtyLogChecks() {
    }

    static void cleanSlotReturnsOneAndSwitchesNothing(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        UserDirtyLog before = s.userDirtyLogAddrOf(slot);
        Expect.value(s.switchDirtyLog(slot.id()), 1, "KVM_SWITCH_DIRTY_LOG on a fresh, clean slot");
        if (s.has(org.dirtylog.spi.Capability.GUEST_WRITES)) {
            s.write(0, slot, 5);
            Expect.value(s.switchDirtyLog(slot.id()), 0, "KVM_SWITCH_DIRTY_LOG after a write");
            Expect.value(s.switchDirtyLog(slot.id()), 1, "KVM_SWITCH_DIRTY_LOG again with no write in between");
            UserBitmap cold = s.readUserBitmap(before.dirtyBitmap(), NPAGES, "cold bitmap");
            Expect.that(cold.equals(UserBitmap.of(NPAGES, List.of(5L))), "cold bitmap after the clean switch",
                    "pages [5] (left as the real switch made it)", cold.describe());
        }
    }

    static void switchAfterWritesReturnsZeroAndColdHoldsThem(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        UserDirtyLog addr = s.userDirtyLogAddrOf(slot);
        long[] pages = {0, 1, 63, 64, 66};
        s.write(0, slot, pages);
        Expect.value(s.switchDirtyLog(slot.id()), 0, "KVM_SWITCH_DIRTY_LOG after writes");
        UserBitmap cold = s.readUserBitmap(addr.dirtyBitmap(), NPAGES, "cold bitmap (the formerly active one)");
        UserBitmap expected = UserBitmap.of(NPAGES, LongStream.of(pages).boxed().toList());
        Expect.that(cold.equals(expected), "cold bitmap after the switch", expected.describe(), cold.describe());
        UserBitmap active = s.readUserBitmap(addr.dirtyBitmapOld(), NPAGES, "new active bitmap");
        Expect.that(active.isClean(), "new active bitmap right after the switch", "all zero", active.describe());
    }

    static void activatedBitmapWasCleared(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        Harvester h = Harvester.Style.SWITCH.on(s, slot);
        s.write(0, slot, 3, 40);
        h.harvest();
        s.write(0, slot, 10);
        h.harvest();
        s.write(0, slot, 65);
        UserBitmap third = h.harvest();
        UserBitmap expected = UserBitmap.of(NPAGES, List.of(65L));
        Expect.that(third.equals(expected), "third harvest (its bitmap last held pages [3, 40])",
                expected.describe(), third.describe());
    }

    static void writesAfterSwitchAreLoggedAgain(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        Harvester h = Harvester.Style.SWITCH.on(s, slot);
        UserBitmap expected = UserBitmap.of(NPAGES, List.of(7L, 64L));
        for (int round = 1; round <= 3; round++) {
            s.write(0, slot, 7, 64);
            UserBitmap got = h.harvest();
            Expect.that(got.equals(expected), "harvest " + round + " after writing pages [7, 64] again",
                    expected.describe(), got.describe());
        }
    }

    static void slotOutOfRangeIsInvalid(Scenario s) {
        Expect.errno(s.switchDirtyLog(s.nrMemslots()), Errno.EINVAL, "KVM_SWITCH_DIRTY_LOG(slot=KVM_CAP_NR_MEMSLOTS)");
        Expect.errno(s.switchDirtyLog(MemslotChecks.NO_ADDRESS_SPACE), Errno.EINVAL,
                "KVM_SWITCH_DIRTY_LOG with address space 0x7fff");
    }

    static void slotWithoutLogIsNoEntry(Scenario s) {
        Expect.errno(s.switchDirtyLog(0), Errno.ENOENT, "KVM_SWITCH_DIRTY_LOG on a slot that does not exist");
        Scenario.Slot slot = s.createSlot(NPAGES, 0);
        Expect.errno(s.switchDirtyLog(slot.id()), Errno.ENOENT,
                "KVM_SWITCH_DIRTY_LOG on a slot without KVM_MEM_LOG_DIRTY_PAGES");
    }

    static void noBitsPastNpages(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        UserDirtyLog addr = s.userDirtyLogAddrOf(slot);
        Harvester h = Harvester.Style.SWITCH.on(s, slot);
        for (int round = 0; round < 2; round++) {
            s.write(0, slot, LongStream.range(0, NPAGES).toArray());
            UserBitmap got = h.harvest();
            Expect.that(got.bitsPastEnd().isEmpty() && got.pages().size() == NPAGES,
                    "cold bitmap after writing all " + NPAGES + " pages", "pages 0.." + (NPAGES - 1) + " and nothing past",
                    got.describe());
        }
        for (long address : new long[] {addr.dirtyBitmap(), addr.dirtyBitmapOld()}) {
            UserBitmap b = s.readUserBitmap(address, NPAGES, "bitmap at 0x" + Long.toHexString(address));
            Expect.that(b.bitsPastEnd().isEmpty(), "bits past npages", "none", b.describe());
        }
    }
}
