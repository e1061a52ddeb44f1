package org.dirtylog.conformance;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.KvmApi;

/**
 * Checks of manual protect: {@code KVM_CHECK_EXTENSION} and {@code KVM_ENABLE_CAP} of
 * {@code KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2} (api.rst 7.18), {@code KVM_GET_DIRTY_LOG} in manual
 * mode (api.rst 4.8) and INITIALLY_SET (semantics §8 M1-M3).
 */
final class ManualProtectChecks {

    static final long ENABLE = KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
    static final long INITIALLY_SET = KvmApi.KVM_DIRTY_LOG_INITIALLY_SET;
    private static final long NPAGES = ClearDirtyLogChecks.NPAGES;
    private static final int LOG = KvmApi.KVM_MEM_LOG_DIRTY_PAGES;

    private ManualProtectChecks() {
    }

    static void maskMatchesTheDeclaredCapabilities(Scenario s) {
        long mask = s.manualProtectMask();
        long expected = s.declaredManualFlags();
        Expect.that((mask & (ENABLE | INITIALLY_SET)) == expected,
                "bits 0 (MANUAL_PROTECT_ENABLE) and 1 (INITIALLY_SET) of KVM_CHECK_EXTENSION(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)",
                CallText.hex(expected) + " (the backend declares manual-dirty-log-protect"
                        + (s.has(Capability.DIRTY_LOG_INITIALLY_SET) ? " and dirty-log-initially-set)" : " only)"),
                CallText.hex(mask));
    }

    static void enableCapRejectsWhatTheMaskDoesNotAllowAndChangesNothing(Scenario s) {
        List<long[]> invalid = new ArrayList<>(List.of(
                new long[] {0, INITIALLY_SET}, new long[] {0, 4}, new long[] {0, ENABLE | 4},
                new long[] {0, ENABLE | 1L << 63}, new long[] {1, ENABLE}, new long[] {1, 0}));
        if (!s.has(Capability.DIRTY_LOG_INITIALLY_SET)) {
            invalid.add(new long[] {0, ENABLE | INITIALLY_SET});
        }
        Scenario.Slot slot = s.createSlot(NPAGES, LOG);
        // Manual mode on: each failed call must leave GET not clearing.
        s.enableManualProtect(ENABLE);
        s.write(0, slot, 7);
        for (long[] call : invalid) {
            Expect.errno(s.enableManualDirtyLogProtect((int) call[0], call[1]), Errno.EINVAL,
                    CallText.enableManualDirtyLogProtect((int) call[0], call[1]));
        }
        UserBitmap seven = UserBitmap.of(NPAGES, List.of(7L));
        for (int get = 1; get <= 2; get++) {
            UserBitmap got = s.getDirtyLog(slot);
            Expect.that(got.equals(seven), "GET " + get + " after the failed calls (manual protect still on: no clearing)",
                    seven.describe(), got.describe());
        }
        // Manual mode off again: GET clears, and failed calls must not turn manual mode on.
        s.enableManualProtect(0);
        UserBitmap taken = s.getDirtyLog(slot);
        Expect.that(taken.equals(seven), "the first GET with manual protect off", seven.describe(), taken.describe());
        for (long[] call : invalid) {
            Expect.errno(s.enableManualDirtyLogProtect((int) call[0], call[1]), Errno.EINVAL,
                    CallText.enableManualDirtyLogProtect((int) call[0], call[1]));
        }
        s.write(0, slot, 8);
        UserBitmap eight = UserBitmap.of(NPAGES, List.of(8L));
        UserBitmap first = s.getDirtyLog(slot);
        Expect.that(first.equals(eight), "GET after writing page 8 (manual protect off)", eight.describe(), first.describe());
        UserBitmap second = s.getDirtyLog(slot);
        Expect.that(second.isClean(), "a second GET after the failed calls (manual protect still off: GET clears)",
                "all zero", second.describe());
        s.enableManualProtect(s.declaredManualFlags());
        s.enableManualProtect(ENABLE);
        s.enableManualProtect(0);
    }

    static void getInManualModeNeitherClearsNorReArms(Scenario s) {
        s.enableManualProtect(ENABLE);
        Scenario.Slot slot = s.createSlot(NPAGES, LOG);
        s.write(0, slot, 9);
        UserBitmap nine = UserBitmap.of(NPAGES, List.of(9L));
        for (int get = 1; get <= 2; get++) {
            UserBitmap got = s.getDirtyLog(slot);
            Expect.that(got.equals(nine), "GET " + get + " after writing page 9 (manual protect: GET does not clear)",
                    nine.describe(), got.describe());
        }
        s.write(0, slot, 9, 70);
        UserBitmap both = UserBitmap.of(NPAGES, List.of(9L, 70L));
        UserBitmap got = s.getDirtyLog(slot);
        Expect.that(got.equals(both), "GET after writing pages 9 and 70", both.describe(), got.describe());
        Expect.errno(s.getDirtyLog(slot.id(), GetDirtyLogChecks.UNMAPPED), Errno.EFAULT, "GET into an unmapped buffer");
        UserBitmap after = s.getDirtyLog(slot);
        Expect.that(after.equals(both), "GET after the -EFAULT (manual protect: the failed GET took nothing)",
                both.describe(), after.describe());
        s.clearDirtyLog(slot, UserBitmap.of(NPAGES, List.of(9L)));
        UserBitmap rest = s.getDirtyLog(slot);
        UserBitmap seventy = UserBitmap.of(NPAGES, List.of(70L));
        Expect.that(rest.equals(seventy), "GET after KVM_CLEAR_DIRTY_LOG of page 9", seventy.describe(), rest.describe());
        s.enableManualProtect(0);
        UserBitmap legacy = s.getDirtyLog(slot);
        Expect.that(legacy.equals(seventy), "GET after turning manual protect off", seventy.describe(), legacy.describe());
        UserBitmap cleared = s.getDirtyLog(slot);
        Expect.that(cleared.isClean(), "the next GET (manual protect off: the previous GET cleared)", "all zero",
                cleared.describe());
    }

    static void initiallySetReportsEveryPageUntilCleared(Scenario s) {
        Scenario.Slot before = s.createSlot(NPAGES, LOG);
        s.enableManualProtect(ENABLE | INITIALLY_SET);
        UserBitmap old = s.getDirtyLog(before);
        Expect.that(old.isClean(), "GET on a slot logged before INITIALLY_SET was enabled (its bitmap existed already)",
                "all zero", old.describe());
        Scenario.Slot created = s.createSlot(NPAGES, LOG);
        Scenario.Slot enabled = s.createSlot(NPAGES, 0);
        Expect.value(s.setUserMemoryRegion(enabled.region().withFlags(LOG)), 0, "turning logging on");
        UserBitmap all = UserBitmap.allPages(NPAGES);
        for (Scenario.Slot slot : List.of(created, enabled)) {
            String what = slot == created ? "a slot created with logging" : "a slot whose logging was turned on";
            for (int get = 1; get <= 2; get++) {
                UserBitmap got = s.getDirtyLog(slot);
                Expect.that(got.equals(all), "GET " + get + " on " + what + " under INITIALLY_SET, before any write",
                        all.describe() + " and no bit past npages", got.describe());
            }
        }
        UserBitmap firstWord = UserBitmap.of(NPAGES, LongStream.range(0, 64).boxed().toList());
        s.clearDirtyLog(created, firstWord);
        UserBitmap rest = all.minus(firstWord);
        UserBitmap got = s.getDirtyLog(created);
        Expect.that(got.equals(rest), "GET after clearing pages 0-63", rest.describe(), got.describe());
        // CLEAR armed tracking for the pages it cleared: a write to one is reported again.
        s.write(0, created, 5);
        UserBitmap expected = rest.or(UserBitmap.of(NPAGES, List.of(5L)));
        UserBitmap again = s.getDirtyLog(created);
        Expect.that(again.equals(expected), "GET after writing page 5, which CLEAR had cleared", expected.describe(),
                again.describe());
        s.clearDirtyLog(created, all);
        s.write(0, created, 99);
        UserBitmap last = UserBitmap.of(NPAGES, List.of(99L));
        UserBitmap end = s.getDirtyLog(created);
        Expect.that(end.equals(last), "GET after clearing every page and writing page 99", last.describe(), end.describe());
    }
}
