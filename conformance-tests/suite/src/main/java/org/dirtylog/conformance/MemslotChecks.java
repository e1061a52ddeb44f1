package org.dirtylog.conformance;

import java.util.List;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserMemory;

/** Checks of {@code KVM_SET_USER_MEMORY_REGION} (api.rst 4.35). */
final class MemslotChecks {

    /** Slot id bits naming address space 0x7fff, which no backend has (§2 G5). */
    static final int NO_ADDRESS_SPACE = 0x7fff << KvmApi.ADDRESS_SPACE_SHIFT;

    /** A flag bit no kernel defines. */
    static final int UNKNOWN_FLAG = 1 << 16;

    private static final long NPAGES = UserDirtyLogAddrChecks.NPAGES;

    private MemslotChecks() {
    }

    static void invalidArgumentsAreRejectedAndChangeNothing(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        s.write(0, slot, 6);
        MemoryRegion r = slot.region();
        UserMemory other = s.mmap(NPAGES * KvmApi.PAGE_SIZE);
        long freeGpa = s.layout().allocateGpa(2 * NPAGES * KvmApi.PAGE_SIZE);
        List<MemoryRegion> invalid = List.of(
                new MemoryRegion(s.nrMemslots(), 0, freeGpa, KvmApi.PAGE_SIZE, other.address()),
                new MemoryRegion(NO_ADDRESS_SPACE, 0, freeGpa, KvmApi.PAGE_SIZE, other.address()),
                new MemoryRegion(slot.id() + 1, UNKNOWN_FLAG, freeGpa, KvmApi.PAGE_SIZE, other.address()),
                new MemoryRegion(slot.id() + 1, 0, freeGpa, KvmApi.PAGE_SIZE + 8, other.address()),
                new MemoryRegion(slot.id() + 1, 0, freeGpa + 8, KvmApi.PAGE_SIZE, other.address()),
                new MemoryRegion(slot.id() + 1, 0, freeGpa, KvmApi.PAGE_SIZE, other.address() + 8),
                r.withFlags(UNKNOWN_FLAG | KvmApi.KVM_MEM_LOG_DIRTY_PAGES),
                new MemoryRegion(slot.id(), r.flags(), r.guestPhysAddr(), r.memorySize() - KvmApi.PAGE_SIZE, r.userspaceAddr()),
                new MemoryRegion(slot.id(), r.flags(), r.guestPhysAddr(), r.memorySize(), other.address()));
        for (MemoryRegion bad : invalid) {
            Expect.errno(s.setUserMemoryRegion(bad), Errno.EINVAL, s.describe(bad));
        }
        s.write(0, slot, 7);
        UserBitmap got = s.getDirtyLog(slot);
        UserBitmap expected = UserBitmap.of(NPAGES, List.of(6L, 7L));
        Expect.that(got.equals(expected), "GET after the rejected calls (slot must be unchanged)", expected.describe(),
                got.describe());
        IoctlResult<Integer> w = s.runWrites(0, List.of(new GuestWrite(freeGpa, 1)), "gpa 0x" + Long.toHexString(freeGpa)
                + " (no slot was created there)");
        Expect.errno(w, Errno.EFAULT, "guest write where only rejected slots would have been");
    }

    static void overlapIsExistAndChangesNothing(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        s.write(0, slot, 2);
        UserMemory other = s.mmap(NPAGES * KvmApi.PAGE_SIZE);
        int id = s.layout().nextSlotId();
        long[] starts = {slot.gpa(), slot.gpa() + 10 * KvmApi.PAGE_SIZE, slot.gpa() - 10 * KvmApi.PAGE_SIZE};
        for (long gpa : starts) {
            if (gpa < s.caps().guestPhysBase()) {
                continue;
            }
            MemoryRegion overlapping = new MemoryRegion(id, 0, gpa, 20 * KvmApi.PAGE_SIZE, other.address());
            Expect.errno(s.setUserMemoryRegion(overlapping), Errno.EEXIST, s.describe(overlapping));
        }
        s.write(0, slot, 3);
        UserBitmap got = s.getDirtyLog(slot);
        UserBitmap expected = UserBitmap.of(NPAGES, List.of(2L, 3L));
        Expect.that(got.equals(expected), "GET after the rejected overlaps", expected.describe(), got.describe());
    }

    static void identicalCallIsANoOp(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        s.write(0, slot, 11, 65);
        Expect.value(s.setUserMemoryRegion(slot.region()), 0, "repeating the call that created the slot");
        UserBitmap got = s.getDirtyLog(slot);
        UserBitmap expected = UserBitmap.of(NPAGES, List.of(11L, 65L));
        Expect.that(got.equals(expected), "GET after the repeated call", expected.describe(), got.describe());
    }

    static void sizeZeroDeletes(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        s.write(0, slot, 1);
        Expect.value(s.setUserMemoryRegion(slot.region().deletion()), 0, "deleting the slot (size 0)");
        IoctlResult<Integer> w = s.runWrites(0, List.of(new GuestWrite(slot.gpaOf(1), 2)), "page 1 of the deleted slot");
        Expect.errno(w, Errno.EFAULT, "guest write to a deleted slot's address");
        UserMemory buffer = s.mmap(KvmApi.dirtyBitmapBytes(NPAGES));
        Expect.errno(s.getDirtyLog(slot.id(), buffer.address()), Errno.ENOENT, "KVM_GET_DIRTY_LOG on the deleted slot");
    }
}
