package org.dirtylog.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The harvest order written once in {@link DirtyLog}, seen through the hooks and grace periods it calls. */
class DirtyLogTests {

    private static final long PAGE = KvmApi.PAGE_SIZE;
    private static final long NPAGES = 131;
    private static final long GPA = 1L << 30;
    private static final int LOG = KvmApi.KVM_MEM_LOG_DIRTY_PAGES;

    /** A VM with slot 0 of {@code NPAGES} pages (logged when {@code flags} says so), one vCPU and a scratch page. */
    private static final class Guest implements AutoCloseable {
        final RecordingArch arch;
        final Vm vm;
        final UserMemory memory;
        final UserMemory scratch;
        final Vcpu vcpu;
        MemoryRegion region;

        Guest(BitmapExchange exchange, int flags) {
            arch = new RecordingArch(exchange);
            vm = arch.vm();
            memory = vm.mmap(NPAGES * PAGE).value();
            scratch = vm.mmap(PAGE).value();
            region = new MemoryRegion(0, flags, GPA, NPAGES * PAGE, memory.address());
            vm.setUserMemoryRegion(region).value();
            vcpu = (Vcpu) vm.createVcpu(0).value();
        }

        void write(long... pages) {
            List<GuestWrite> writes = new ArrayList<>();
            for (long p : pages) {
                writes.add(new GuestWrite(region.guestPhysAddr() + p * PAGE, p));
            }
            vcpu.runWrites(writes).value();
        }

        BitSet getDirtyLog() {
            vm.getDirtyLog(0, scratch.address()).value();
            BitSet pages = new BitSet();
            for (int p = 0; p < NPAGES; p++) {
                if ((scratch.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, (p >>> 6) * 8L) & (1L << (p & 63))) != 0) {
                    pages.set(p);
                }
            }
            return pages;
        }

        @Override
        public void close() {
            vm.close();
        }
    }

    private static BitSet pages(int... pages) {
        BitSet set = new BitSet();
        for (int p : pages) {
            set.set(p);
        }
        return set;
    }

    @ParameterizedTest
    @EnumSource(BitmapExchange.class)
    void aDirtyHarvestSyncsExchangesWaitsThenReArmsAndFlushesInThatOrder(BitmapExchange exchange) {
        try (Guest g = new Guest(exchange, LOG)) {
            g.write(3);
            g.arch.calls.clear();
            assertEquals(0, g.vm.switchDirtyLog(0).value());
            String exchanged = exchange == BitmapExchange.IN_PLACE ? "SwapBitmaps" : "PublishMemslots";
            assertEquals(List.of("sync", exchanged, "GracePeriod(bitmaps)", "WriteProtect", "flush"), g.arch.calls);
        }
    }

    @ParameterizedTest
    @EnumSource(BitmapExchange.class)
    void aCleanHarvestOnlySyncsAndChangesNothing(BitmapExchange exchange) {
        try (Guest g = new Guest(exchange, LOG)) {
            Memslots before = g.vm.memslots();
            DirtyBitmap active = before.get(0).dirtyBitmap();
            g.arch.calls.clear();
            assertEquals(1, g.vm.switchDirtyLog(0).value());
            assertEquals(List.of("sync"), g.arch.calls);
            assertSame(before, g.vm.memslots());
            assertSame(active, g.vm.memslots().get(0).dirtyBitmap());
        }
    }

    @Test
    void publishingTheExchangeReplacesTheMemslotsArrayAndFreesTheOldOne() {
        try (Guest g = new Guest(BitmapExchange.PUBLISH_MEMSLOTS, LOG)) {
            g.write(3);
            Memslots before = g.vm.memslots();
            Memslot old = before.get(0);
            assertEquals(0, g.vm.switchDirtyLog(0).value());
            Memslot now = g.vm.memslots().get(0);
            assertNotSame(before, g.vm.memslots());
            assertTrue(before.isFreed(), "the old array is freed after the grace period");
            assertSame(old.dirtyBitmap(), now.dirtyBitmapOld());
            assertSame(old.dirtyBitmapOld(), now.dirtyBitmap());
        }
    }

    @Test
    void anInPlaceExchangeKeepsTheArrayAndSwapsTheSlotsPointers() {
        try (Guest g = new Guest(BitmapExchange.IN_PLACE, LOG)) {
            g.write(3);
            Memslots before = g.vm.memslots();
            Memslot slot = before.get(0);
            DirtyBitmap active = slot.dirtyBitmap();
            DirtyBitmap cold = slot.dirtyBitmapOld();
            assertEquals(0, g.vm.switchDirtyLog(0).value());
            assertSame(before, g.vm.memslots());
            assertSame(active, slot.dirtyBitmapOld());
            assertSame(cold, slot.dirtyBitmap());
        }
    }

    @ParameterizedTest
    @EnumSource(BitmapExchange.class)
    void aGetReportsTheWrittenPagesAndAWriteAfterItFaultsIntoTheNewActiveBitmap(BitmapExchange exchange) {
        try (Guest g = new Guest(exchange, LOG)) {
            g.write(3, 64, NPAGES - 1);
            assertEquals(pages(3, 64, (int) NPAGES - 1), g.getDirtyLog());
            g.write(3);
            assertEquals(pages(3), g.getDirtyLog());
            g.scratch.segment().fill((byte) 0xff);
            assertEquals(pages(), g.getDirtyLog(), "a clean GET writes zeros");
        }
    }

    @Test
    void loggingSwitchedOnIsCommittedAfterTheGracePeriodThenWriteProtectedAndFlushed() {
        try (Guest g = new Guest(BitmapExchange.PUBLISH_MEMSLOTS, 0)) {
            g.write(7);
            g.arch.calls.clear();
            g.vm.setUserMemoryRegion(g.region.withFlags(LOG)).value();
            assertEquals(List.of("GracePeriod(memslots)", "commitMemoryRegion(FLAGS_ONLY)", "WriteProtect", "flush"),
                    g.arch.calls);
            g.write(7);
            assertEquals(pages(7), g.getDirtyLog(), "a page writable before logging faults again (b64d740e)");
        }
    }

    @Test
    void everyMemslotChangeIsCommittedWithItsKindAfterItsGracePeriod() {
        try (Guest g = new Guest(BitmapExchange.PUBLISH_MEMSLOTS, LOG)) {
            g.arch.calls.clear();
            g.vm.setUserMemoryRegion(g.region.movedTo(2 * GPA)).value();
            g.vm.setUserMemoryRegion(g.region.movedTo(2 * GPA).withFlags(0)).value();
            g.vm.setUserMemoryRegion(g.region.deletion()).value();
            g.vm.setUserMemoryRegion(g.region).value();
            assertEquals(List.of(
                    "createArchMemslot", "GracePeriod(memslots)", "commitMemoryRegion(MOVE)",
                    "GracePeriod(memslots)", "commitMemoryRegion(FLAGS_ONLY)",
                    "GracePeriod(memslots)", "commitMemoryRegion(DELETE)",
                    "createArchMemslot", "GracePeriod(memslots)", "commitMemoryRegion(CREATE)"), g.arch.calls);
        }
    }
}
