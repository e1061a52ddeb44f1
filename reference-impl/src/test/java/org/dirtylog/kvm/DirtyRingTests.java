package org.dirtylog.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import org.dirtylog.spi.ClearDirtyLog;
import org.dirtylog.spi.DirtyGfn;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.RandomWriter;
import org.dirtylog.spi.RandomWrites;
import org.dirtylog.spi.UserMemory;
import org.dirtylog.spi.VcpuExit;
import org.dirtylog.spi.VcpuRun;
import org.junit.jupiter.api.Test;

/** The reference core's dirty ring from the inside: enabling, mapping, pushing, the soft limit and the reset's walk. */
class DirtyRingTests {

    private static final long PAGE = KvmApi.PAGE_SIZE;
    private static final long GPA = 1L << 30;
    private static final int RING = KvmApi.KVM_CAP_DIRTY_LOG_RING;
    private static final int ACQ_REL = KvmApi.KVM_CAP_DIRTY_LOG_RING_ACQ_REL;
    private static final int RW = KvmApi.PROT_READ | KvmApi.PROT_WRITE;
    private static final long SMALLEST = PAGE;
    private static final long LARGEST = KvmApi.KVM_DIRTY_RING_MAX_ENTRIES * DirtyGfn.SIZE;
    private static final ValueLayout.OfLong GUEST_LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** An architecture with a ring: page tables per slot, masked re-arms and flushes recorded. */
    static class RingArch implements ArchHooks {
        final List<String> calls = Collections.synchronizedList(new ArrayList<>());

        @Override
        public String name() {
            return "ring";
        }

        @Override
        public ArchMemslot createArchMemslot(ArchContext kvm, long npages) {
            return SlotPageTable.allocate(npages);
        }

        @Override
        public boolean isWritable(Vcpu vcpu, Memslot slot, long page) {
            return ((SlotPageTable) slot.arch()).isWritable(page);
        }

        @Override
        public void makeWritable(Vcpu vcpu, Memslot slot, long page) {
            ((SlotPageTable) slot.arch()).makeWritable(page);
        }

        @Override
        public void writeProtectSlot(ArchContext kvm, Memslot slot) {
            ((SlotPageTable) slot.arch()).writeProtectAll();
        }

        @Override
        public void enableLogDirtyPtMasked(ArchContext kvm, Memslot slot, long firstPage, long mask) {
            calls.add("ReArm(slot " + slot.id() + ", " + firstPage + ", 0x" + Long.toHexString(mask) + ")");
            ((SlotPageTable) slot.arch()).writeProtect(firstPage, mask);
        }

        @Override
        public long dirtyRingMaxBytes() {
            return LARGEST;
        }
    }

    private static Vm ringVm(RingArch arch) {
        return new Vm(arch, CoreSeams.KERNEL, Vm.DEFAULT_MEMORY_SLOTS);
    }

    /** A VM with a ring of {@code bytes}, slot 0 logged ({@code npages} at GPA) and vCPU 0. */
    private record Setup(Vm vm, Vcpu vcpu, MemorySegment ring, UserMemory memory, RingArch arch) implements AutoCloseable {
        static Setup of(long bytes, long npages) {
            RingArch arch = new RingArch();
            Vm vm = ringVm(arch);
            assertEquals(0, vm.enableDirtyLogRing(ACQ_REL, 0, bytes).value());
            UserMemory memory = vm.mmap(npages * PAGE).value();
            assertEquals(0, vm.setUserMemoryRegion(new MemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, GPA, npages * PAGE,
                    memory.address())).value());
            Vcpu vcpu = (Vcpu) vm.createVcpu(0).value();
            MemorySegment ring = vcpu.mmapDirtyRing(bytes, RW, KvmApi.MAP_SHARED).value().segment();
            return new Setup(vm, vcpu, ring, memory, arch);
        }

        void write(long... pages) {
            List<GuestWrite> writes = new ArrayList<>();
            for (long p : pages) {
                writes.add(new GuestWrite(GPA + p * PAGE, p + 1));
            }
            assertEquals(pages.length, vcpu.runWrites(writes).value());
        }

        /** Marks entries {@code [from, to)} RESET as a collector does and returns their pages. */
        List<Long> collect(long from, long to) {
            List<Long> pages = new ArrayList<>();
            long entries = ring.byteSize() / DirtyGfn.SIZE;
            for (long i = from; i < to; i++) {
                long pos = DirtyGfn.position(i, entries);
                assertEquals(DirtyGfn.KVM_DIRTY_GFN_F_DIRTY, DirtyGfn.flagsAcquire(ring, pos), "entry " + i);
                pages.add(DirtyGfn.readFrom(ring, pos).offset());
                DirtyGfn.setFlagsRelease(ring, pos, DirtyGfn.KVM_DIRTY_GFN_F_RESET);
            }
            return pages;
        }

        @Override
        public void close() {
            vm.close();
        }
    }

    @Test
    void checkExtensionReportsTheLargestRingOnlyWhereTheArchitectureHasOne() {
        try (Vm x = ringVm(new RingArch()); Vm none = new RecordingArch(BitmapExchange.IN_PLACE).vm()) {
            assertEquals((int) LARGEST, x.checkExtension(RING).value());
            assertEquals((int) LARGEST, x.checkExtension(ACQ_REL).value());
            assertEquals(0, x.checkExtension(KvmApi.KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP).value());
            assertEquals(0, none.checkExtension(RING).value());
            assertEquals(0, none.checkExtension(ACQ_REL).value());
            assertEquals(Errno.EINVAL, none.enableDirtyLogRing(ACQ_REL, 0, SMALLEST).errnoOrNull());
        }
    }

    @Test
    void enableChecksInTheKernelsOrderAndAFailedCallLeavesTheRingOff() {
        try (Vm vm = ringVm(new RingArch())) {
            assertEquals(Errno.EINVAL, vm.enableDirtyLogRing(KvmApi.KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP, 0, SMALLEST)
                    .errnoOrNull());
            assertEquals(Errno.EINVAL, vm.enableDirtyLogRing(RING, 0, 0).errnoOrNull());
            assertEquals(Errno.EINVAL, vm.enableDirtyLogRing(RING, 0, SMALLEST + DirtyGfn.SIZE).errnoOrNull());
            assertEquals(Errno.EINVAL, vm.enableDirtyLogRing(RING, 0, 3 * LARGEST).errnoOrNull(), "pow2 before E2BIG");
            assertEquals(Errno.EINVAL, vm.enableDirtyLogRing(RING, 0, SMALLEST / 2).errnoOrNull());
            assertEquals(Errno.E2BIG, vm.enableDirtyLogRing(RING, 0, 2 * LARGEST).errnoOrNull());
            assertEquals(Errno.EINVAL, vm.enableDirtyLogRing(RING, 0, 1L << 32).errnoOrNull(), "u32: 2^32 is 0");
            Vcpu probe = (Vcpu) vm.createVcpu(5).value();
            assertEquals(Errno.EINVAL, probe.mmapDirtyRing(SMALLEST, RW, KvmApi.MAP_SHARED).errnoOrNull(),
                    "failed enables left the ring off");
        }
        try (Vm vm = ringVm(new RingArch())) {
            assertEquals(0, vm.enableDirtyLogRing(RING, 7, (1L << 32) + SMALLEST).value(), "u32 truncation, flags ignored");
            assertEquals(Errno.EINVAL, vm.enableDirtyLogRing(RING, 0, SMALLEST).errnoOrNull(), "again");
            assertEquals(Errno.EINVAL, vm.enableDirtyLogRing(ACQ_REL, 0, SMALLEST).errnoOrNull(), "the other capability");
            assertEquals(Errno.E2BIG, vm.enableDirtyLogRing(RING, 0, 2 * LARGEST).errnoOrNull(), "E2BIG first");
            Vcpu vcpu = (Vcpu) vm.createVcpu(0).value();
            assertEquals(SMALLEST, vcpu.mmapDirtyRing(SMALLEST, RW, KvmApi.MAP_SHARED).value().length());
        }
        try (Vm vm = ringVm(new RingArch())) {
            vm.createVcpu(0).value().close();
            assertEquals(Errno.EINVAL, vm.enableDirtyLogRing(RING, 0, SMALLEST).errnoOrNull(), "a vCPU was created");
            assertEquals(Errno.E2BIG, vm.enableDirtyLogRing(RING, 0, 2 * LARGEST).errnoOrNull(), "E2BIG before it");
        }
    }

    @Test
    void theRingIsMappedSharedAndOnlyThat() {
        try (Setup s = Setup.of(2 * PAGE, 16)) {
            Vcpu v = s.vcpu();
            assertEquals(Errno.EINVAL, v.mmapDirtyRing(2 * PAGE, RW, KvmApi.MAP_PRIVATE).errnoOrNull());
            assertEquals(Errno.EINVAL, v.mmapDirtyRing(2 * PAGE, RW, KvmApi.MAP_PRIVATE | KvmApi.MAP_SHARED).errnoOrNull());
            assertEquals(Errno.EINVAL, v.mmapDirtyRing(2 * PAGE, RW | KvmApi.PROT_EXEC, KvmApi.MAP_SHARED).errnoOrNull());
            assertEquals(Errno.EINVAL, v.mmapDirtyRing(3 * PAGE, RW, KvmApi.MAP_SHARED).errnoOrNull(), "past the ring");
            assertEquals(Errno.EINVAL, v.mmapDirtyRing(PAGE + 16, RW, KvmApi.MAP_SHARED).errnoOrNull());
            assertEquals(Errno.EINVAL, v.mmapDirtyRing(0, RW, KvmApi.MAP_SHARED).errnoOrNull());
            MemorySegment readOnly = v.mmapDirtyRing(2 * PAGE, KvmApi.PROT_READ, KvmApi.MAP_SHARED).value().segment();
            assertThrows(IllegalArgumentException.class, () -> DirtyGfn.setFlagsRelease(readOnly, 0, 2), "read-only");
            s.write(3);
            assertEquals(new DirtyGfn(DirtyGfn.KVM_DIRTY_GFN_F_DIRTY, 0, 3), DirtyGfn.readFrom(readOnly, 0));
            assertEquals(DirtyGfn.readFrom(s.ring(), 0), DirtyGfn.readFrom(readOnly, 0));
        }
    }

    /**
     * {@code kvm_clear_dirty_log_protect} checks {@code kvm_use_dirty_bitmap} first: with the ring
     * on, CLEAR answers -ENXIO before its slot, alignment and buffer checks, and with manual
     * protect on as well; an architecture without CLEAR still answers -ENOTTY (the ioctl is unknown).
     */
    @Test
    void clearDirtyLogAnswersNoDeviceWithTheRingOnBeforeItsOtherChecks() {
        RingArch withClear = new RingArch() {
            @Override
            public boolean genericDirtyLogReadProtect() {
                return true;
            }
        };
        try (Vm vm = ringVm(withClear)) {
            assertEquals(0, vm.enableManualDirtyLogProtect(0, KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE).value());
            assertEquals(0, vm.enableDirtyLogRing(ACQ_REL, 0, PAGE).value());
            UserMemory memory = vm.mmap(128 * PAGE).value();
            assertEquals(0, vm.setUserMemoryRegion(new MemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, GPA, 128 * PAGE,
                    memory.address())).value());
            UserMemory bitmap = vm.mmap(PAGE).value();
            assertEquals(Errno.ENXIO, vm.clearDirtyLog(new ClearDirtyLog(0, 128, 0, bitmap.address())).errnoOrNull());
            assertEquals(Errno.ENXIO, vm.clearDirtyLog(new ClearDirtyLog(0, 128, 1, bitmap.address())).errnoOrNull(),
                    "before the alignment check");
            assertEquals(Errno.ENXIO, vm.clearDirtyLog(new ClearDirtyLog(7, 64, 0, bitmap.address())).errnoOrNull(),
                    "before the slot lookup");
            assertEquals(Errno.ENXIO, vm.clearDirtyLog(new ClearDirtyLog(0, 128, 0, 0x1000)).errnoOrNull(),
                    "before the user bitmap is read");
        }
        try (Setup s = Setup.of(PAGE, 16)) {
            UserMemory bitmap = s.vm().mmap(PAGE).value();
            assertEquals(Errno.ENOTTY, s.vm().clearDirtyLog(new ClearDirtyLog(0, 16, 0, bitmap.address())).errnoOrNull(),
                    "no generic protect path: the ioctl is unknown, ring or not");
        }
    }

    @Test
    void theBitmapHarvestsAnswerNoDeviceWithTheRingOn() {
        try (Setup s = Setup.of(PAGE, 16)) {
            UserMemory buffer = s.vm().mmap(PAGE).value();
            assertEquals(Errno.ENXIO, s.vm().getDirtyLog(0, buffer.address()).errnoOrNull());
            assertEquals(Errno.ENXIO, s.vm().getDirtyLog(40, 0x1000).errnoOrNull());
            assertEquals(Errno.ENXIO, s.vm().switchDirtyLog(0).errnoOrNull());
            s.vm().close();
            assertEquals(Errno.EBADF, s.vm().getDirtyLog(0, buffer.address()).errnoOrNull());
            assertEquals(Errno.EBADF, s.vm().resetDirtyRings().errnoOrNull());
        }
        try (Vm plain = ringVm(new RingArch())) {
            assertEquals(Errno.EINVAL, plain.resetDirtyRings().errnoOrNull(), "no ring");
        }
    }

    @Test
    void aWriteFaultPushesOnceAndTheResetReArmsThePageForTheNextPush() {
        try (Setup s = Setup.of(PAGE, 16)) {
            s.write(4, 4, 9);
            assertEquals(List.of(4L, 9L), s.collect(0, 2));
            assertEquals(0, DirtyGfn.flagsAcquire(s.ring(), 2), "a writable page pushes nothing");
            s.write(4);
            assertEquals(0, DirtyGfn.flagsAcquire(s.ring(), 2), "not re-armed before the reset");
            assertEquals(2, s.vm().resetDirtyRings().value());
            assertEquals(0, DirtyGfn.flagsAcquire(s.ring(), 0), "reset entries are zeroed");
            s.write(4);
            assertEquals(List.of(4L), s.collect(2, 3));
        }
    }

    @Test
    void theResetWalksOnlyTheHarvestedPrefixAndBatchesPagesLikeTheKernelsMask() {
        try (Setup s = Setup.of(PAGE, 300)) {
            // 10, 12: one window; 5: 5 back, no bit lost, the window moves; 70: 65 forward, a new batch;
            // 200 then 137: 63 back, the window [137, 200]; 260 then 190: 70 back, a new batch.
            s.write(10, 12, 5, 70, 200, 137, 260, 190, 11);
            s.collect(0, 8);
            s.arch().calls.clear();
            assertEquals(8, s.vm().resetDirtyRings().value(), "the walk stops at entry 8 (page 11, not harvested)");
            assertEquals(List.of("ReArm(slot 0, 5, 0xa1)", "ReArm(slot 0, 70, 0x1)",
                    "ReArm(slot 0, 137, 0x8000000000000001)", "ReArm(slot 0, 260, 0x1)", "ReArm(slot 0, 190, 0x1)"),
                    s.arch().calls);
            assertEquals(DirtyGfn.KVM_DIRTY_GFN_F_DIRTY, DirtyGfn.flagsAcquire(s.ring(), 8));
            assertEquals(0, s.vm().resetDirtyRings().value());
        }
    }

    @Test
    void theResetStopsAtTheFirstEntryNotMarkedAndLeavesLaterMarksForTheNextCall() {
        try (Setup s = Setup.of(PAGE, 16)) {
            s.write(1, 2, 3, 4);
            DirtyGfn.setFlagsRelease(s.ring(), 0, DirtyGfn.KVM_DIRTY_GFN_F_RESET);
            DirtyGfn.setFlagsRelease(s.ring(), 2, DirtyGfn.KVM_DIRTY_GFN_F_RESET);
            assertEquals(1, s.vm().resetDirtyRings().value());
            assertEquals(DirtyGfn.KVM_DIRTY_GFN_F_RESET, DirtyGfn.flagsAcquire(s.ring(), 2));
            DirtyGfn.setFlagsRelease(s.ring(), 1, DirtyGfn.KVM_DIRTY_GFN_F_RESET);
            assertEquals(2, s.vm().resetDirtyRings().value());
            assertEquals(DirtyGfn.KVM_DIRTY_GFN_F_DIRTY, DirtyGfn.flagsAcquire(s.ring(), 3));
        }
    }

    @Test
    void aSoftFullRingStopsTheVcpuBeforeTheFaultingStoreRetiresAndKeepsItOutUntilReset() {
        try (Setup s = Setup.of(PAGE, 300)) {
            long entries = PAGE / DirtyGfn.SIZE;
            long softLimit = entries - KvmApi.KVM_DIRTY_RING_RSVD_ENTRIES;
            List<GuestWrite> writes = new ArrayList<>();
            for (long p = 0; p < 300; p++) {
                writes.add(new GuestWrite(GPA + p * PAGE, 1000 + p));
            }
            VcpuRun run = s.vcpu().runWritesUntilExit(writes).value();
            assertEquals(new VcpuRun((int) softLimit - 1, VcpuExit.DIRTY_RING_FULL), run);
            long last = softLimit - 1;
            assertEquals(0, s.memory().segment().get(GUEST_LONG, last * PAGE), "the faulting store has not retired");
            assertEquals(new VcpuRun(0, VcpuExit.DIRTY_RING_FULL), s.vcpu().runWritesUntilExit(writes.subList(191, 300))
                    .value());
            assertEquals(Errno.ENOSPC, s.vcpu().runWrites(writes.subList(191, 300)).errnoOrNull());
            s.collect(0, softLimit);
            assertEquals((int) softLimit, s.vm().resetDirtyRings().value());
            VcpuRun rest = s.vcpu().runWritesUntilExit(writes.subList((int) last, 300)).value();
            assertEquals(new VcpuRun(300 - (int) last, VcpuExit.DONE), rest);
            assertEquals(1000 + last, s.memory().segment().get(GUEST_LONG, last * PAGE));
            assertEquals(0, s.vcpu().dirtyRing().overflows());
        }
    }

    @Test
    void aWriterWaitsOnAFullRingAndAResumeBeforeTheResetExitsAgainAtOnce() {
        try (Setup s = Setup.of(PAGE, 1024)) {
            RandomWriter w = s.vcpu().startSequentialWrites(new RandomWrites(GPA, 1024, 7, 0)).value();
            while (!w.ringFull()) {
                Thread.onSpinWait();
            }
            assertEquals(1, w.ringFullExits());
            assertEquals(0, w.resume().value());
            assertTrue(w.ringFull(), "still soft-full: KVM_RUN exits again");
            assertEquals(2, w.ringFullExits());
            long entries = PAGE / DirtyGfn.SIZE;
            List<Long> pages = s.collect(0, entries - KvmApi.KVM_DIRTY_RING_RSVD_ENTRIES);
            for (int i = 0; i < pages.size(); i++) {
                assertEquals(i, pages.get(i), "the sequential writer's pages in order");
            }
            assertEquals(pages.size(), s.vm().resetDirtyRings().value());
            assertEquals(0, w.resume().value());
            while (w.writesSoFar() < 256 && !w.ringFull()) {
                Thread.onSpinWait();
            }
            assertTrue(w.stop().value() >= pages.size());
            assertFalse(w.ringFull());
            assertEquals(Errno.EINVAL, w.resume().errnoOrNull());
            assertEquals(0, s.vcpu().dirtyRing().overflows());
        }
    }

    /**
     * The interleaving a loaded run of the contention test below once hit: a write fault has
     * pushed its entry and not yet mapped the page when the collector harvests that entry and
     * resets. The reset's re-arm must wait for the map (the kernel's {@code mmu_lock}), or the
     * page is left writable with no entry and its next store is never reported. The fault is
     * held inside {@code makeWritable} until the resetting thread has either finished (the bug)
     * or is parked waiting for the fault (the fix): decided by thread state, not by time.
     */
    @Test
    void aResetRacingAWriteFaultReArmsAfterTheFaultMapsThePage() throws Exception {
        java.util.concurrent.CountDownLatch inFault = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicReference<Thread> resetter = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean held = new java.util.concurrent.atomic.AtomicBoolean();
        RingArch arch = new RingArch() {
            @Override
            public void makeWritable(Vcpu vcpu, Memslot slot, long page) {
                if (held.compareAndSet(false, true)) {
                    inFault.countDown();
                    Thread r;
                    while ((r = resetter.get()) == null || (r.isAlive() && r.getState() == Thread.State.RUNNABLE)) {
                        Thread.onSpinWait();
                    }
                }
                super.makeWritable(vcpu, slot, page);
            }
        };
        long bytes = PAGE;
        long entries = bytes / DirtyGfn.SIZE;
        try (Vm vm = ringVm(arch)) {
            assertEquals(0, vm.enableDirtyLogRing(ACQ_REL, 0, bytes).value());
            UserMemory memory = vm.mmap(4 * PAGE).value();
            assertEquals(0, vm.setUserMemoryRegion(new MemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, GPA, 4 * PAGE,
                    memory.address())).value());
            Vcpu vcpu = (Vcpu) vm.createVcpu(0).value();
            MemorySegment ring = vcpu.mmapDirtyRing(bytes, RW, KvmApi.MAP_SHARED).value().segment();
            java.util.concurrent.CompletableFuture<IoctlResult<Integer>> fault = java.util.concurrent.CompletableFuture
                    .supplyAsync(() -> vcpu.runWrites(List.of(new GuestWrite(GPA + 2 * PAGE, 7))));
            inFault.await();
            assertEquals(DirtyGfn.KVM_DIRTY_GFN_F_DIRTY, DirtyGfn.flagsAcquire(ring, 0), "the fault pushed before it maps");
            assertEquals(2, DirtyGfn.readFrom(ring, 0).offset());
            DirtyGfn.setFlagsRelease(ring, 0, DirtyGfn.KVM_DIRTY_GFN_F_RESET);
            java.util.concurrent.CompletableFuture<IoctlResult<Integer>> reset = new java.util.concurrent.CompletableFuture<>();
            Thread r = new Thread(() -> reset.complete(vm.resetDirtyRings()), "reset");
            r.start();
            resetter.set(r); // after start: a NEW thread is not RUNNABLE and would release the fault early
            assertEquals(1, fault.get().value());
            assertEquals(1, reset.get().value());
            r.join();
            assertEquals(1, vcpu.runWrites(List.of(new GuestWrite(GPA + 2 * PAGE, 8))).value());
            assertEquals(DirtyGfn.KVM_DIRTY_GFN_F_DIRTY, DirtyGfn.flagsAcquire(ring, DirtyGfn.position(1, entries)),
                    "the store after the reset faulted and pushed: the page was re-armed after the fault mapped it");
            assertEquals(2, DirtyGfn.readFrom(ring, DirtyGfn.position(1, entries)).offset());
        }
    }

    /**
     * Several vCPU threads push into small rings while this thread kicks, collects, resets and
     * reads, over many iterations: every page holding iteration i's value after the writers
     * stopped was collected in iteration i (a write is never lost), every reset returns what was
     * marked, and no push ever overwrote an unreset entry.
     */
    @Test
    void underContentionEveryWriteIsCollectedAndEveryResetCountsWhatWasMarked() {
        int vcpus = 4;
        long npages = 777;
        long bytes = PAGE;
        long entries = bytes / DirtyGfn.SIZE;
        RingArch arch = new RingArch();
        try (Vm vm = ringVm(arch)) {
            assertEquals(0, vm.enableDirtyLogRing(ACQ_REL, 0, bytes).value());
            UserMemory memory = vm.mmap(npages * PAGE).value();
            vm.setUserMemoryRegion(new MemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, GPA, npages * PAGE,
                    memory.address())).value();
            Vcpu[] v = new Vcpu[vcpus];
            MemorySegment[] rings = new MemorySegment[vcpus];
            long[] fetch = new long[vcpus];
            for (int i = 0; i < vcpus; i++) {
                v[i] = (Vcpu) vm.createVcpu(i).value();
                rings[i] = v[i].mmapDirtyRing(bytes, RW, KvmApi.MAP_SHARED).value().segment();
            }
            SplittableRandom seeds = new SplittableRandom(12);
            long harvests = 0;
            for (int iteration = 1; iteration <= 40; iteration++) {
                RandomWriter[] w = new RandomWriter[vcpus];
                for (int i = 0; i < vcpus; i++) {
                    RandomWrites writes = new RandomWrites(GPA, npages, iteration, seeds.nextLong());
                    w[i] = (i + iteration) % 2 == 0 ? v[i].startSequentialWrites(writes).value()
                            : v[i].startRandomWrites(writes).value();
                }
                BitSet reported = new BitSet();
                while (true) {
                    long least = Long.MAX_VALUE;
                    for (RandomWriter x : w) {
                        least = Math.min(least, x.writesSoFar());
                    }
                    if (least >= 2 * entries) {
                        break;
                    }
                    harvest(vm, v, rings, fetch, entries, reported);
                    harvests++;
                    for (RandomWriter x : w) {
                        if (x.ringFull()) {
                            assertEquals(0, x.resume().value());
                        }
                    }
                }
                for (RandomWriter x : w) {
                    x.stop().value();
                }
                harvest(vm, v, rings, fetch, entries, reported);
                for (int p = 0; p < npages; p++) {
                    long value = memory.segment().get(GUEST_LONG, p * PAGE);
                    assertTrue(value < iteration || reported.get(p),
                            "iteration " + iteration + ": page " + p + " holds " + value + " and was never collected");
                }
            }
            for (Vcpu x : v) {
                assertEquals(0, x.dirtyRing().overflows());
            }
            assertTrue(harvests > 40, "harvests ran while the vCPUs wrote: " + harvests);
        }
    }

    private static void harvest(Vm vm, Vcpu[] v, MemorySegment[] rings, long[] fetch, long entries, BitSet reported) {
        long marked = 0;
        for (int i = 0; i < v.length; i++) {
            assertEquals(0, v[i].kick().value());
            while (true) {
                long pos = DirtyGfn.position(fetch[i], entries);
                if (DirtyGfn.flagsAcquire(rings[i], pos) != DirtyGfn.KVM_DIRTY_GFN_F_DIRTY) {
                    break;
                }
                DirtyGfn e = DirtyGfn.readFrom(rings[i], pos);
                assertEquals(0, e.slot());
                reported.set((int) e.offset());
                DirtyGfn.setFlagsRelease(rings[i], pos, DirtyGfn.KVM_DIRTY_GFN_F_RESET);
                fetch[i]++;
                marked++;
            }
        }
        IoctlResult<Integer> r = vm.resetDirtyRings();
        assertEquals(marked, (long) r.value(), "KVM_RESET_DIRTY_RINGS returns what was marked");
    }
}
