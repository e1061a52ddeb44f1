package org.dirtylog.conformance;

import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.stream.LongStream;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.UserMemory;

/** Checks of {@code KVM_GET_DIRTY_LOG} (api.rst 4.8). */
final class GetDirtyLogChecks {

    /** A user address no backend maps: below {@code mmap_min_addr} on Linux. */
    static final long UNMAPPED = 0x1000;

    private static final long NPAGES = UserDirtyLogAddrChecks.NPAGES;
    private static final byte GARBAGE = (byte) 0xa5;

    private GetDirtyLogChecks() {
    }

    static void reportsExactlyTheWrittenPages(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        long[] pages = {0, 2, 63, 64, 65, 66};
        s.write(0, slot, pages);
        UserBitmap got = s.getDirtyLog(slot);
        UserBitmap expected = UserBitmap.of(NPAGES, LongStream.of(pages).boxed().toList());
        Expect.that(got.equals(expected), "KVM_GET_DIRTY_LOG after writes", expected.describe(), got.describe());
    }

    static void clearsWhatItReturnsAndReArms(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        UserBitmap p = UserBitmap.of(NPAGES, List.of(9L));
        for (int round = 1; round <= 3; round++) {
            s.write(0, slot, 9);
            UserBitmap first = s.getDirtyLog(slot);
            Expect.that(first.equals(p), "GET after writing page 9 (round " + round + ")", p.describe(), first.describe());
            UserBitmap second = s.getDirtyLog(slot);
            Expect.that(second.isClean(), "second GET with no write in between (round " + round + ")", "all zero",
                    second.describe());
        }
    }

    static void writesTheWholeBuffer(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        long bytes = KvmApi.dirtyBitmapBytes(NPAGES);
        UserMemory buffer = s.mmap(bytes);
        buffer.segment().fill(GARBAGE);
        s.recorder().note("fill the buffer with 0xa5", "");
        Expect.value(s.getDirtyLog(slot.id(), buffer.address()), 0, "KVM_GET_DIRTY_LOG on a clean slot");
        UserBitmap clean = UserBitmap.readFrom(buffer.segment(), NPAGES);
        s.recorder().note("read the buffer", clean.describe());
        Expect.that(clean.isClean(), "buffer after GET on a clean slot", "all " + bytes + " bytes zero", clean.describe());
        s.write(0, slot, 1);
        buffer.segment().fill(GARBAGE);
        s.recorder().note("fill the buffer with 0xa5", "");
        Expect.value(s.getDirtyLog(slot.id(), buffer.address()), 0, "KVM_GET_DIRTY_LOG after writing page 1");
        UserBitmap got = UserBitmap.readFrom(buffer.segment(), NPAGES);
        s.recorder().note("read the buffer", got.describe());
        UserBitmap expected = UserBitmap.of(NPAGES, List.of(1L));
        Expect.that(got.equals(expected), "buffer after GET (second word has no dirty page)", expected.describe(),
                got.describe());
    }

    static void noBitsOrBytesPastTheBitmap(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        long bytes = KvmApi.dirtyBitmapBytes(NPAGES);
        UserMemory buffer = s.mmap(KvmApi.PAGE_SIZE);
        for (int round = 0; round < 2; round++) {
            s.write(0, slot, LongStream.range(0, NPAGES).toArray());
            buffer.segment().fill(GARBAGE);
            s.recorder().note("fill the buffer page with 0xa5", "");
            Expect.value(s.getDirtyLog(slot.id(), buffer.address()), 0, "KVM_GET_DIRTY_LOG after writing every page");
            UserBitmap got = UserBitmap.readFrom(buffer.segment(), NPAGES);
            s.recorder().note("read the buffer", got.describe());
            Expect.that(got.bitsPastEnd().isEmpty() && got.pages().size() == NPAGES, "bitmap of " + NPAGES + " written pages",
                    "pages 0.." + (NPAGES - 1) + " and nothing past", got.describe());
            for (long off = bytes; off < KvmApi.PAGE_SIZE; off++) {
                byte b = buffer.segment().get(ValueLayout.JAVA_BYTE, off);
                Expect.that(b == GARBAGE, "byte " + off + " of the buffer (the bitmap is " + bytes + " bytes)",
                        "untouched (0xa5)", String.format("0x%02x", b));
            }
        }
    }

    static void errorsInKernelOrder(Scenario s) {
        int outOfRange = s.nrMemslots();
        Expect.errno(s.getDirtyLog(outOfRange, UNMAPPED), Errno.EINVAL,
                "slot id out of range with an unmapped buffer (EINVAL is checked first)");
        Expect.errno(s.getDirtyLog(0, UNMAPPED), Errno.ENOENT,
                "slot that does not exist with an unmapped buffer (ENOENT before EFAULT)");
        Scenario.Slot plain = s.createSlot(NPAGES, 0);
        Expect.errno(s.getDirtyLog(plain.id(), UNMAPPED), Errno.ENOENT,
                "slot without logging with an unmapped buffer (ENOENT before EFAULT)");
        UserMemory buffer = s.mmap(KvmApi.dirtyBitmapBytes(NPAGES));
        Expect.errno(s.getDirtyLog(plain.id(), buffer.address()), Errno.ENOENT, "slot without logging");
        Scenario.Slot logged = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        Expect.errno(s.getDirtyLog(logged.id(), UNMAPPED), Errno.EFAULT, "logged slot with an unmapped buffer");
        Expect.value(s.getDirtyLog(logged.id(), buffer.address()), 0, "logged slot with a mapped buffer");
    }

    static void faultLeavesTheVmUsable(Scenario s) {
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        s.write(0, slot, 4);
        Expect.errno(s.getDirtyLog(slot.id(), UNMAPPED), Errno.EFAULT, "GET into an unmapped buffer");
        s.write(0, slot, 30);
        UserBitmap got = s.getDirtyLog(slot);
        // Page 4's bit may or may not survive the -EFAULT (legacy mode takes it before the copy, §2 G4).
        Expect.that(got.isSet(30) && got.pages().stream().allMatch(p -> p == 4 || p == 30)
                        && got.bitsPastEnd().isEmpty(), "GET after the -EFAULT and a write to page 30",
                "pages [30] or [4, 30]", got.describe());
        s.write(0, slot, 31);
        UserBitmap again = s.getDirtyLog(slot);
        UserBitmap expected = UserBitmap.of(NPAGES, List.of(31L));
        Expect.that(again.equals(expected), "the GET after that, following a write to page 31", expected.describe(),
                again.describe());
    }

    static void unknownAddressSpaceIsInvalid(Scenario s) {
        UserMemory buffer = s.mmap(KvmApi.dirtyBitmapBytes(NPAGES));
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        Expect.errno(s.getDirtyLog(MemslotChecks.NO_ADDRESS_SPACE | slot.id(), buffer.address()), Errno.EINVAL,
                "KVM_GET_DIRTY_LOG(slot=" + slot.id() + " in address space 0x7fff)");
    }
}
