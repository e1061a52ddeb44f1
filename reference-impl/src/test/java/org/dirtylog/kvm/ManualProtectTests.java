package org.dirtylog.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.dirtylog.spi.ClearDirtyLog;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserMemory;
import org.junit.jupiter.api.Test;

/**
 * Manual protect and {@code KVM_CLEAR_DIRTY_LOG} in the core: the mask and the mode, GET that
 * only copies, CLEAR's checks, its per-word order (bits taken, then exactly those pages
 * re-armed, then one flush), the bytes it reads, INITIALLY_SET bitmaps, and a write fault and a
 * CLEAR excluding each other.
 */
class ManualProtectTests {

    private static final long PAGE = KvmApi.PAGE_SIZE;
    /** Two full words and a partial one of 3 pages. */
    private static final long NPAGES = 131;
    private static final long GPA = 1L << 30;
    private static final int LOG = KvmApi.KVM_MEM_LOG_DIRTY_PAGES;
    private static final long ENABLE = KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
    private static final long INITIALLY_SET = KvmApi.KVM_DIRTY_LOG_INITIALLY_SET;
    private static final ValueLayout.OfLong USER_WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * An architecture with the generic protect path: page tables of its own, every VM-side call
     * recorded, and for each masked re-arm the bits of the mask still set in the active bitmap
     * when it was called (the core must have taken them first).
     */
    private static final class MaskedArch implements ArchHooks {
        final List<String> calls = new ArrayList<>();
        /** Runs in the vCPU's thread before a fault maps the page writable; null for none. */
        volatile Consumer<Long> beforeMakeWritable;

        @Override
        public String name() {
            return "masked";
        }

        @Override
        public boolean genericDirtyLogReadProtect() {
            return true;
        }

        @Override
        public ArchMemslot createArchMemslot(ArchContext kvm, long npages) {
            return SlotPageTable.allocate(npages);
        }

        @Override
        public void commitMemoryRegion(ArchContext kvm, Memslot old, Memslot next, MemslotChange change) {
            calls.add("commit(" + change + ")");
            ArchHooks.super.commitMemoryRegion(kvm, old, next, change);
        }

        @Override
        public boolean isWritable(Vcpu vcpu, Memslot slot, long page) {
            return ((SlotPageTable) slot.arch()).isWritable(page);
        }

        @Override
        public void makeWritable(Vcpu vcpu, Memslot slot, long page) {
            Consumer<Long> hook = beforeMakeWritable;
            if (hook != null) {
                hook.accept(page);
            }
            ((SlotPageTable) slot.arch()).makeWritable(page);
        }

        @Override
        public void syncDirtyLog(ArchContext kvm, Memslot slot) {
            calls.add("sync");
        }

        @Override
        public BitmapExchange bitmapExchange() {
            calls.add("PublishMemslots");
            return BitmapExchange.PUBLISH_MEMSLOTS;
        }

        @Override
        public void writeProtectSlot(ArchContext kvm, Memslot slot) {
            calls.add("WriteProtect");
            ((SlotPageTable) slot.arch()).writeProtectAll();
        }

        @Override
        public void enableLogDirtyPtMasked(ArchContext kvm, Memslot slot, long firstPage, long mask) {
            long stillSet = 0;
            for (long bits = mask; bits != 0; bits &= bits - 1) {
                long page = firstPage + Long.numberOfTrailingZeros(bits);
                stillSet |= slot.dirtyBitmap().test(page) ? 1L << (page - firstPage) : 0;
            }
            calls.add("ReArm(" + firstPage + ", 0x" + Long.toHexString(mask) + ", still set 0x" + Long.toHexString(stillSet) + ")");
            ((SlotPageTable) slot.arch()).writeProtect(firstPage, mask);
        }

        @Override
        public void flushRemoteTlbsMemslot(ArchContext kvm, Memslot slot) {
            calls.add("flush");
            ArchHooks.super.flushRemoteTlbsMemslot(kvm, slot);
        }
    }

    /** A VM of {@link MaskedArch} with slot 0 of {@link #NPAGES} pages, one vCPU and a scratch page. */
    private static final class Guest implements AutoCloseable {
        final MaskedArch arch = new MaskedArch();
        final Vm vm = new Vm(arch, CoreSeams.KERNEL, Vm.DEFAULT_MEMORY_SLOTS);
        final UserMemory memory = vm.mmap(NPAGES * PAGE).value();
        final UserMemory scratch = vm.mmap(PAGE).value();
        final Vcpu vcpu = (Vcpu) vm.createVcpu(0).value();

        Guest(long manualFlags) {
            if (manualFlags != 0) {
                vm.enableManualDirtyLogProtect(0, manualFlags).value();
            }
            vm.setUserMemoryRegion(new MemoryRegion(0, LOG, GPA, NPAGES * PAGE, memory.address())).value();
        }

        Memslot slot() {
            return vm.memslots().get(0);
        }

        void write(Vcpu v, long... pages) {
            List<GuestWrite> writes = new ArrayList<>();
            for (long p : pages) {
                writes.add(new GuestWrite(GPA + p * PAGE, p + 1));
            }
            v.runWrites(writes).value();
        }

        void write(long... pages) {
            write(vcpu, pages);
        }

        BitSet getDirtyLog() {
            vm.getDirtyLog(0, scratch.address()).value();
            return bits(scratch.segment(), NPAGES);
        }

        /** Writes {@code pages} as a user bitmap at the start of the scratch page and returns its address. */
        long userBitmap(BitSet pages) {
            scratch.segment().fill((byte) 0);
            pages.stream().forEach(p -> scratch.segment().set(USER_WORD, (p >>> 6) * 8L,
                    scratch.segment().get(USER_WORD, (p >>> 6) * 8L) | 1L << (p & 63)));
            return scratch.address();
        }

        IoctlResult<Integer> clear(BitSet pages) {
            return vm.clearDirtyLog(new ClearDirtyLog(0, (int) NPAGES, 0, userBitmap(pages)));
        }

        @Override
        public void close() {
            vm.close();
        }
    }

    private static BitSet bits(MemorySegment bitmap, long npages) {
        BitSet pages = new BitSet();
        for (int p = 0; p < npages; p++) {
            if ((bitmap.get(USER_WORD, (p >>> 6) * 8L) & (1L << (p & 63))) != 0) {
                pages.set(p);
            }
        }
        return pages;
    }

    private static BitSet pages(long... pages) {
        BitSet set = new BitSet();
        for (long p : pages) {
            set.set((int) p);
        }
        return set;
    }

    @Test
    void theMaskIsEnableAndInitiallySetWhereTheArchitectureHasTheGenericProtectPathAndZeroElsewhere() {
        try (Guest g = new Guest(0)) {
            assertEquals(3, g.vm.checkExtension(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2).value());
        }
        try (Vm plain = new RecordingArch(BitmapExchange.PUBLISH_MEMSLOTS).vm()) {
            assertEquals(0, plain.checkExtension(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2).value());
            for (long args0 : new long[] {0, ENABLE, ENABLE | INITIALLY_SET}) {
                assertEquals(Errno.EINVAL, plain.enableManualDirtyLogProtect(0, args0).errnoOrNull(), "args0 " + args0);
            }
            assertEquals(Errno.ENOTTY, plain.clearDirtyLog(new ClearDirtyLog(0, 64, 0, 0)).errnoOrNull());
        }
    }

    @Test
    void enableCapAcceptsOffEnableAndEnableWithInitiallySetAndRefusesTheRestLeavingTheModeAsItWas() {
        try (Guest g = new Guest(0)) {
            long[][] invalid = {{0, INITIALLY_SET}, {0, 4}, {0, ENABLE | 4}, {0, ENABLE | 1L << 63}, {1, ENABLE}, {1, 0}};
            for (long mode : new long[] {0, ENABLE, ENABLE | INITIALLY_SET}) {
                assertEquals(0, g.vm.enableManualDirtyLogProtect(0, mode).value());
                for (long[] call : invalid) {
                    assertEquals(Errno.EINVAL, g.vm.enableManualDirtyLogProtect((int) call[0], call[1]).errnoOrNull(),
                            "flags " + call[0] + ", args0 " + call[1]);
                    assertEquals((mode & ENABLE) != 0, manual(g));
                    assertEquals((mode & INITIALLY_SET) != 0, initiallySet(g));
                }
            }
        }
    }

    private static boolean manual(Guest g) {
        g.write(7);
        BitSet first = g.getDirtyLog();
        BitSet second = g.getDirtyLog();
        g.vm.clearDirtyLog(new ClearDirtyLog(0, (int) NPAGES, 0, g.userBitmap(pages(7))));
        return first.equals(pages(7)) && second.equals(pages(7));
    }

    private static boolean initiallySet(Guest g) {
        UserMemory memory = g.vm.mmap(PAGE).value();
        MemoryRegion r = new MemoryRegion(5, LOG, 0, PAGE, memory.address());
        g.vm.setUserMemoryRegion(r).value();
        boolean set = g.vm.memslots().get(5).dirtyBitmap().test(0);
        g.vm.setUserMemoryRegion(new MemoryRegion(5, 0, 0, 0, memory.address())).value();
        g.vm.munmap(memory).value();
        return set;
    }

    @Test
    void aManualGetSyncsAndCopiesTheActiveBitmapAndNeitherExchangesNorReArms() {
        try (Guest g = new Guest(ENABLE)) {
            g.write(3, 64, 130);
            g.arch.calls.clear();
            assertEquals(pages(3, 64, 130), g.getDirtyLog());
            assertEquals(pages(3, 64, 130), g.getDirtyLog());
            assertEquals(List.of("sync", "sync"), g.arch.calls);
            SlotPageTable table = (SlotPageTable) g.slot().arch();
            assertTrue(table.isWritable(3) && table.isWritable(64) && table.isWritable(130), "GET re-armed nothing");
        }
    }

    @Test
    void clearTakesTheBitsOfEachWordThenReArmsExactlyThosePagesThenFlushesOnce() {
        try (Guest g = new Guest(ENABLE)) {
            g.write(0, 2, 63, 64, 65, 130);
            g.arch.calls.clear();
            // 5 and 66 are clean; in the partial last word, pages 128-130, every bit is set, 131-191 included.
            BitSet named = pages(2, 5, 64, 66);
            named.set(128, 192);
            assertEquals(0, g.clear(named).value());
            assertEquals(List.of("sync", "ReArm(0, 0x4, still set 0x0)", "ReArm(64, 0x1, still set 0x0)",
                    "ReArm(128, 0x4, still set 0x0)", "flush"), g.arch.calls);
            assertEquals(pages(0, 63, 65), g.getDirtyLog());
            SlotPageTable table = (SlotPageTable) g.slot().arch();
            assertFalse(table.isWritable(2) || table.isWritable(64) || table.isWritable(130), "cleared pages re-armed");
            assertTrue(table.isWritable(0) && table.isWritable(63) && table.isWritable(65), "other pages untouched");
            g.write(2, 130);
            assertEquals(pages(0, 2, 63, 65, 130), g.getDirtyLog());
        }
    }

    @Test
    void aClearThatTakesNothingReArmsNothingAndDoesNotFlush() {
        try (Guest g = new Guest(ENABLE)) {
            g.write(1);
            g.arch.calls.clear();
            assertEquals(0, g.clear(pages(0, 2, 70, 129)).value());
            assertEquals(List.of("sync"), g.arch.calls);
            assertEquals(pages(1), g.getDirtyLog());
        }
    }

    @Test
    void clearChecksInTheKernelsOrderAndAFailedCallChangesNothing() {
        try (Guest g = new Guest(ENABLE)) {
            UserMemory plainMemory = g.vm.mmap(NPAGES * PAGE).value();
            g.vm.setUserMemoryRegion(new MemoryRegion(1, 0, 0, NPAGES * PAGE, plainMemory.address())).value();
            g.write(1, 64, 130);
            long ones = g.userBitmap(pages(0, 1, 2, 63, 64, 65, 127, 128, 129, 130));
            int n = (int) NPAGES;
            Object[][] failing = {
                {new ClearDirtyLog(32, 128, 1, 0), Errno.EINVAL},
                {new ClearDirtyLog(1 << 16, n, 0, ones), Errno.EINVAL},
                {new ClearDirtyLog(9, 128, 1, 0), Errno.EINVAL},
                {new ClearDirtyLog(9, 128, 0, 0), Errno.ENOENT},
                {new ClearDirtyLog(1, 1 << 20, 0, 0), Errno.ENOENT},
                {new ClearDirtyLog(0, 192, 0, 0), Errno.EINVAL},
                {new ClearDirtyLog(0, 64, 0, 0), Errno.EFAULT},
                {new ClearDirtyLog(0, 32, 64, ones), Errno.EINVAL},
                {new ClearDirtyLog(0, 4, 128, ones), Errno.EINVAL},
                {new ClearDirtyLog(0, 0, 192, ones), Errno.EINVAL},
                {new ClearDirtyLog(0, 0xffff_ffc0, 64, ones), Errno.EINVAL},
                {new ClearDirtyLog(0, 64, -64, ones), Errno.EINVAL},
                {new ClearDirtyLog(0, n, 0, g.scratch.address() + PAGE - 16), Errno.EFAULT},
            };
            SlotPageTable table = (SlotPageTable) g.slot().arch();
            for (Object[] c : failing) {
                g.arch.calls.clear();
                assertEquals(c[1], g.vm.clearDirtyLog((ClearDirtyLog) c[0]).errnoOrNull(), c[0].toString());
                assertEquals(List.of(), g.arch.calls, c[0].toString());
                assertTrue(table.isWritable(1) && table.isWritable(64) && table.isWritable(130), c[0].toString());
                assertEquals(3, g.slot().dirtyBitmap().cardinality(), c[0].toString());
            }
        }
    }

    @Test
    void clearReadsExactlyAlignedNumPagesBytesAndNothingForZeroPages() {
        try (Guest g = new Guest(ENABLE)) {
            g.write(1, 64, 130);
            MemorySegment page = g.scratch.segment();
            page.fill((byte) 0);
            long end = g.scratch.address() + PAGE;
            assertEquals(0, g.vm.clearDirtyLog(new ClearDirtyLog(0, 0, 0, 0)).value());
            assertEquals(0, g.vm.clearDirtyLog(new ClearDirtyLog(0, 0, 64, end)).value());
            page.set(USER_WORD, PAGE - 8, 1L << 2);
            assertEquals(0, g.vm.clearDirtyLog(new ClearDirtyLog(0, 3, 128, end - 8)).value(), "the partial word only");
            page.set(USER_WORD, PAGE - 24, 1L << 1);
            page.set(USER_WORD, PAGE - 16, 1L);
            assertEquals(Errno.EFAULT, g.vm.clearDirtyLog(new ClearDirtyLog(0, (int) NPAGES, 0, end - 16)).errnoOrNull());
            assertEquals(pages(1, 64), g.getDirtyLog());
            page.set(USER_WORD, PAGE - 24, 1L << 1);
            page.set(USER_WORD, PAGE - 16, 1L);
            assertEquals(0, g.vm.clearDirtyLog(new ClearDirtyLog(0, (int) NPAGES, 0, end - 24)).value());
            assertEquals(pages(), g.getDirtyLog());
        }
    }

    @Test
    void underInitiallySetEveryNewBitmapHasEveryPageAndNoBitPastNpagesAndLoggingOnWriteProtectsNothing() {
        try (Guest g = new Guest(0)) {
            g.vm.enableManualDirtyLogProtect(0, ENABLE | INITIALLY_SET).value();
            assertEquals(pages(), g.getDirtyLog(), "a bitmap allocated before keeps its bits");
            UserMemory other = g.vm.mmap(NPAGES * PAGE).value();
            MemoryRegion plain = new MemoryRegion(2, 0, 1L << 32, NPAGES * PAGE, other.address());
            g.vm.setUserMemoryRegion(plain).value();
            g.vcpu.runWrites(List.of(new GuestWrite((1L << 32) + 4 * PAGE, 1))).value();
            g.arch.calls.clear();
            g.vm.setUserMemoryRegion(plain.withFlags(LOG)).value();
            assertEquals(List.of("commit(FLAGS_ONLY)"), g.arch.calls, "logging on under INITIALLY_SET write-protects nothing");
            Memslot slot = g.vm.memslots().get(2);
            assertEquals(NPAGES, slot.dirtyBitmap().cardinality());
            assertTrue(slot.dirtyBitmap().test(NPAGES - 1) && !slot.dirtyBitmap().test(NPAGES));
            assertEquals(0, slot.dirtyBitmapOld().cardinality(), "only the active bitmap starts set");
            assertTrue(((SlotPageTable) slot.arch()).isWritable(4), "page 4 stays writable: its bit is set instead");
            // Created logged: the same bitmap, in one word exactly (64 pages).
            UserMemory third = g.vm.mmap(64 * PAGE).value();
            g.vm.setUserMemoryRegion(new MemoryRegion(3, LOG, 1L << 33, 64 * PAGE, third.address())).value();
            assertEquals(-1L, g.vm.memslots().get(3).dirtyBitmap().segment().get(ValueLayout.JAVA_LONG, 0));
            // Turned off: the next bitmaps start clean, and logging on write-protects again.
            g.vm.enableManualDirtyLogProtect(0, ENABLE).value();
            g.vm.setUserMemoryRegion(plain).value();
            g.arch.calls.clear();
            g.vm.setUserMemoryRegion(plain.withFlags(LOG)).value();
            assertEquals(List.of("commit(FLAGS_ONLY)", "WriteProtect", "flush"), g.arch.calls);
            assertEquals(0, g.vm.memslots().get(2).dirtyBitmap().cardinality());
        }
    }

    @Test
    void aBitmapWordTakenAndSetAgainForeverKeepsItsWordLogBounded() {
        DirtyBitmap bitmap = DirtyBitmap.allocate(128);
        try {
            for (int i = 0; i < 1000; i++) {
                bitmap.set(70);
                assertEquals(1L << 6, bitmap.takeBits(1, -1L));
                assertEquals(0, bitmap.takeBits(1, -1L));
            }
            bitmap.set(3);
            bitmap.set(70);
            bitmap.clear();
            assertEquals(0, bitmap.cardinality(), "a clear after the log overflowed zeroes every word");
        } finally {
            bitmap.close();
        }
    }

    /**
     * A CLEAR that runs inside a write fault, after the fault marked the page and before it maps
     * it writable, takes the mark and write-protects the page; the fault's mark after mapping
     * sets the bit again. Without it the page would be writable with its bit clear, and every
     * later write to it lost.
     */
    @Test
    void aClearInsideAWriteFaultLeavesThePageProtectedOrMarked() throws InterruptedException {
        try (Guest g = new Guest(ENABLE)) {
            g.write(9);
            assertEquals(0, g.clear(pages(9)).value());
            long bitmap = g.userBitmap(pages(9));
            AtomicReference<Thread> clearing = new AtomicReference<>();
            AtomicReference<Integer> cleared = new AtomicReference<>();
            g.arch.beforeMakeWritable = page -> {
                if (page != 9 || clearing.get() != null) {
                    return;
                }
                Thread t = new Thread(() -> cleared.set(g.vm.clearDirtyLog(new ClearDirtyLog(0, (int) NPAGES, 0, bitmap)).value()));
                clearing.set(t);
                t.start();
                try {
                    t.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                assertFalse(g.slot().dirtyBitmap().test(9), "the CLEAR took the fault's first mark");
            };
            g.write(9);
            g.arch.beforeMakeWritable = null;
            assertEquals(0, cleared.get());
            SlotPageTable table = (SlotPageTable) g.slot().arch();
            assertTrue(table.isWritable(9), "the fault mapped page 9 after the CLEAR write-protected it");
            assertTrue(g.slot().dirtyBitmap().test(9), "page 9 writable with its bit clear");
            assertEquals(pages(9), g.getDirtyLog(), "the write is reported");
        }
    }

    /**
     * Four vCPUs write their own pages while one thread harvests with GET, then CLEAR of exactly
     * what GET returned. A write wholly between one CLEAR's return and the next GET must be in
     * that GET; a write wholly inside one harvest must be in its GET or the next (the race
     * rules' oracle; TLA+ NoLostWrite).
     */
    @Test
    void getThenClearUnderConcurrentWritesLosesNoWrite() throws InterruptedException {
        int vcpus = 4;
        int harvests = 400;
        try (Guest g = new Guest(ENABLE)) {
            List<Vcpu> cpus = new ArrayList<>(List.of(g.vcpu));
            for (int i = 1; i < vcpus; i++) {
                cpus.add((Vcpu) g.vm.createVcpu(i).value());
            }
            AtomicInteger stage = new AtomicInteger(1);
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<long[]> writes = new ConcurrentLinkedQueue<>();
            List<BitSet> got = new ArrayList<>(List.of(new BitSet()));
            Thread[] threads = new Thread[vcpus];
            for (int i = 0; i < vcpus; i++) {
                int id = i;
                threads[i] = new Thread(() -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    while (!stop.get()) {
                        long page = id + vcpus * random.nextLong(NPAGES / vcpus);
                        int before = stage.get();
                        g.write(cpus.get(id), page);
                        writes.add(new long[] {page, before, stage.get()});
                    }
                });
                threads[i].start();
            }
            for (int k = 1; k <= harvests; k++) {
                stage.set(2 * k);
                BitSet dirty = g.getDirtyLog();
                got.add(dirty);
                assertEquals(0, g.clear(dirty).value());
                stage.set(2 * k + 1);
            }
            stop.set(true);
            for (Thread t : threads) {
                t.join();
            }
            got.add(g.getDirtyLog());
            int judged = 0;
            for (long[] w : writes) {
                if (w[1] != w[2]) {
                    continue;
                }
                int page = (int) w[0];
                int k = (int) w[1] / 2;
                boolean reported = w[1] % 2 == 1 ? got.get(k + 1).get(page) : got.get(k).get(page) || got.get(k + 1).get(page);
                assertTrue(reported, "page " + page + " written in stage " + w[1] + " was reported by no harvest");
                judged++;
            }
            assertTrue(judged > harvests, "only " + judged + " writes judged");
        }
    }
}
