package org.dirtylog.arch.linuxkvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capability;
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

/**
 * The backend's dirty ring on the real {@code /dev/kvm}: enabling passes the kernel's answers
 * through, the ring is the vCPU fd's mapping, entries appear for the guest's stores, the reset
 * returns the kernel's count, a ring-full exit reaches the caller of a batch and of a writing
 * session, and a kick leaves a session running. These test the backend, not the kernel's
 * soft-full timing: where this machine's kernel is late with the exit (see the README), the
 * tests accept the exit at the next entry, which the kernel does take.
 */
class DirtyRingTests {

    private static final long GPA = GuestProgram.KIT_BASE;
    /** One page of ring: 256 entries, the smallest this host's kernel accepts (no PML: 64 reserved). */
    private static final long RING = KvmApi.PAGE_SIZE;
    private static final long ENTRIES = RING / DirtyGfn.SIZE;
    private static final int RW = KvmApi.PROT_READ | KvmApi.PROT_WRITE;

    private static BackendVm ringVm() {
        BackendVm vm = KvmDevice.newVm();
        assumeTrue(new LinuxKvmBackend().capabilities().has(Capability.DIRTY_LOG_RING), "the kernel reports no ring");
        assertEquals(0, vm.enableDirtyLogRing(KvmApi.KVM_CAP_DIRTY_LOG_RING_ACQ_REL, 0, RING).value());
        return vm;
    }

    private static UserMemory slot(BackendVm vm, int id, long gpa, long pages, int flags) {
        UserMemory memory = vm.mmap(pages * KvmApi.PAGE_SIZE).value();
        assertEquals(0, vm.setUserMemoryRegion(new MemoryRegion(id, flags, gpa, memory.length(), memory.address())).value());
        return memory;
    }

    /** Returns the DIRTY entries from {@code from} on, marking each RESET as a collector does. */
    private static List<DirtyGfn> collect(MemorySegment ring, long from) {
        List<DirtyGfn> out = new ArrayList<>();
        for (long i = from; ; i++) {
            long position = DirtyGfn.position(i, ENTRIES);
            if (DirtyGfn.flagsAcquire(ring, position) != DirtyGfn.KVM_DIRTY_GFN_F_DIRTY) {
                return out;
            }
            out.add(DirtyGfn.readFrom(ring, position));
            DirtyGfn.setFlagsRelease(ring, position, DirtyGfn.KVM_DIRTY_GFN_F_RESET);
        }
    }

    private static List<GuestWrite> distinctPages(long first, long count) {
        List<GuestWrite> writes = new ArrayList<>();
        for (long p = first; p < first + count; p++) {
            writes.add(new GuestWrite(GPA + p * KvmApi.PAGE_SIZE, p + 1));
        }
        return writes;
    }

    @Test
    void enablingPassesTheKernelsAnswersThroughInItsOrder() {
        try (BackendVm vm = KvmDevice.newVm()) {
            long max = vm.checkExtension(KvmApi.KVM_CAP_DIRTY_LOG_RING).value();
            assumeTrue(max > 0, "the kernel reports no ring");
            int cap = KvmApi.KVM_CAP_DIRTY_LOG_RING;
            assertEquals(Errno.EINVAL, vm.enableDirtyLogRing(cap, 0, 0).errnoOrNull());
            assertEquals(Errno.EINVAL, vm.enableDirtyLogRing(cap, 0, 3 * KvmApi.PAGE_SIZE).errnoOrNull());
            assertEquals(Errno.EINVAL, vm.enableDirtyLogRing(cap, 0, KvmApi.PAGE_SIZE / 2).errnoOrNull());
            assertEquals(Errno.E2BIG, vm.enableDirtyLogRing(cap, 0, 2 * max).errnoOrNull());
            assertEquals(0, vm.enableDirtyLogRing(cap, 0, max).value());
            assertEquals(Errno.EINVAL, vm.enableDirtyLogRing(cap, 0, max).errnoOrNull());
            assertEquals(Errno.E2BIG, vm.enableDirtyLogRing(cap, 0, 2 * max).errnoOrNull());
        }
        try (BackendVm vm = KvmDevice.newVm()) {
            vm.createVcpu(0).value();
            assertEquals(Errno.EINVAL, vm.enableDirtyLogRing(KvmApi.KVM_CAP_DIRTY_LOG_RING, 0, RING).errnoOrNull());
        }
    }

    @Test
    void theRingIsMappedFromTheVcpuFdAndOnlyAsTheKernelAllows() {
        try (BackendVm plain = KvmDevice.newVm()) {
            assertEquals(Errno.EINVAL, plain.createVcpu(0).value().mmapDirtyRing(RING, RW, KvmApi.MAP_SHARED).errnoOrNull(),
                    "no ring: the kernel would map pages whose access raises SIGBUS");
        }
        try (BackendVm vm = ringVm()) {
            BackendVcpu vcpu = vm.createVcpu(0).value();
            assertEquals(Errno.EINVAL, vcpu.mmapDirtyRing(RING, RW, KvmApi.MAP_PRIVATE).errnoOrNull());
            Errno exec = vcpu.mmapDirtyRing(RING, RW | KvmApi.PROT_EXEC, KvmApi.MAP_SHARED).errnoOrNull();
            assertTrue(Errno.EPERM.equals(exec) || Errno.EINVAL.equals(exec), String.valueOf(exec));
            assertEquals(Errno.EINVAL, vcpu.mmapDirtyRing(2 * RING, RW, KvmApi.MAP_SHARED).errnoOrNull(),
                    "longer than the ring");
            assertEquals(Errno.EINVAL, vcpu.mmapDirtyRing(100, RW, KvmApi.MAP_SHARED).errnoOrNull());
            MemorySegment ring = vcpu.mmapDirtyRing(RING, RW, KvmApi.MAP_SHARED).value().segment();
            assertEquals(RING, ring.byteSize());
            for (long i = 0; i < ENTRIES; i++) {
                assertEquals(new DirtyGfn(0, 0, 0), DirtyGfn.readFrom(ring, i));
            }
        }
    }

    @Test
    void storesToALoggedSlotPushItsSlotAndOffsetAndTheResetCountsThem() {
        try (BackendVm vm = ringVm()) {
            slot(vm, 5, GPA, 16, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
            slot(vm, 7, GPA + 32 * KvmApi.PAGE_SIZE, 16, 0);
            BackendVcpu vcpu = vm.createVcpu(0).value();
            MemorySegment ring = vcpu.mmapDirtyRing(RING, RW, KvmApi.MAP_SHARED).value().segment();
            long[] pages = {0, 0, 1, 5};
            List<GuestWrite> writes = new ArrayList<>();
            for (long p : pages) {
                writes.add(new GuestWrite(GPA + p * KvmApi.PAGE_SIZE, 9));
            }
            writes.add(new GuestWrite(GPA + 32 * KvmApi.PAGE_SIZE, 9));
            assertEquals(5, vcpu.runWrites(writes).value());
            List<DirtyGfn> got = collect(ring, 0);
            Set<Long> firstSeen = new LinkedHashSet<>();
            for (DirtyGfn e : got) {
                assertEquals(DirtyGfn.slotOf(0, 5), e.slot(), e.toString());
                firstSeen.add(e.offset());
            }
            assertEquals(List.of(0L, 1L, 5L), List.copyOf(firstSeen));
            assertEquals(got.size(), vm.resetDirtyRings().value());
            for (int i = 0; i < got.size(); i++) {
                assertEquals(0, DirtyGfn.flagsAcquire(ring, i), "entry " + i + " reset");
            }
            assertEquals(0, vm.resetDirtyRings().value());
            assertEquals(Errno.ENXIO, vm.getDirtyLog(5, vm.mmap(KvmApi.PAGE_SIZE).value().address()).errnoOrNull());
            long bitmap = vm.mmap(KvmApi.PAGE_SIZE).value().address();
            assertEquals(Errno.ENXIO, vm.clearDirtyLog(new ClearDirtyLog(5, 64, 0, bitmap)).errnoOrNull());
            assertEquals(Errno.ENXIO, vm.clearDirtyLog(new ClearDirtyLog(5, 64, 1, bitmap)).errnoOrNull(),
                    "before the kernel's alignment check");
            int reserved = vm.checkExtension(KvmApi.KVM_CAP_NR_MEMSLOTS).value();
            assertEquals(Errno.ENXIO, vm.clearDirtyLog(new ClearDirtyLog(reserved, 64, 0, bitmap)).errnoOrNull(),
                    "the slot the backend keeps for its guest code answers as an out-of-range id does");
        }
    }

    @Test
    void aBatchThatFillsTheRingReturnsTheExitAndGoesOnAfterTheReset() {
        try (BackendVm vm = ringVm()) {
            slot(vm, 0, GPA, 3 * ENTRIES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
            BackendVcpu vcpu = vm.createVcpu(0).value();
            MemorySegment ring = vcpu.mmapDirtyRing(RING, RW, KvmApi.MAP_SHARED).value().segment();
            List<GuestWrite> writes = distinctPages(0, ENTRIES);
            VcpuRun first = vcpu.runWritesUntilExit(writes).value();
            if (first.exit() == VcpuExit.DONE) {
                // This kernel may let the guest run past the soft limit; KVM_RUN still refuses to enter.
                assertEquals(ENTRIES, first.writes());
                first = vcpu.runWritesUntilExit(distinctPages(ENTRIES, 1)).value();
                assertEquals(new VcpuRun(0, VcpuExit.DIRTY_RING_FULL), first);
            }
            assertEquals(VcpuExit.DIRTY_RING_FULL, first.exit());
            assertEquals(new VcpuRun(0, VcpuExit.DIRTY_RING_FULL), vcpu.runWritesUntilExit(distinctPages(0, 1)).value(),
                    "no entry into the guest while the ring is soft-full");
            assertEquals(Errno.ENOSPC, vcpu.runWrites(distinctPages(0, 1)).errnoOrNull());
            int harvested = collect(ring, 0).size();
            assertTrue(harvested >= first.writes(), harvested + " entries for " + first.writes() + " writes");
            assertEquals(harvested, vm.resetDirtyRings().value());
            VcpuRun rest = vcpu.runWritesUntilExit(distinctPages(2 * ENTRIES, 8)).value();
            assertEquals(new VcpuRun(8, VcpuExit.DONE), rest);
        }
    }

    @Test
    void aSessionOnASoftFullRingWaitsUntilResumedAndGoesOnAfterTheReset() {
        try (BackendVm vm = ringVm()) {
            UserMemory memory = slot(vm, 0, GPA, 4 * ENTRIES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
            BackendVcpu vcpu = vm.createVcpu(0).value();
            MemorySegment ring = vcpu.mmapDirtyRing(RING, RW, KvmApi.MAP_SHARED).value().segment();
            // Exactly as many pushes as the ring holds: soft-full (whenever the kernel exits), never overwritten.
            VcpuRun fill = vcpu.runWritesUntilExit(distinctPages(2 * ENTRIES, ENTRIES)).value();
            assertTrue(fill.exit() == VcpuExit.DIRTY_RING_FULL || fill.writes() == ENTRIES, fill.toString());
            RandomWriter writer = vcpu.startSequentialWrites(new RandomWrites(GPA, ENTRIES, 3, 0)).value();
            Await.until("the session's first KVM_RUN exits with KVM_EXIT_DIRTY_RING_FULL", writer::ringFull);
            assertEquals(1, writer.ringFullExits());
            assertEquals(0, writer.writesSoFar());
            assertEquals(0, vcpu.kick().value(), "a kick while out of guest mode returns at once");
            int harvested = collect(ring, 0).size();
            assertEquals(harvested, vm.resetDirtyRings().value());
            assertEquals(0, writer.resume().value());
            // The resumed session may refill the ring and exit again before this thread runs on (a
            // loaded machine): a second resume is valid exactly when a second ring-full exit came.
            IoctlResult<Integer> again = writer.resume();
            if (again.isOk()) {
                assertTrue(writer.ringFullExits() >= 2, "a second resume succeeded without a second ring-full exit");
            } else {
                assertEquals(Errno.EINVAL, again.errnoOrNull(), "not waiting any more");
            }
            Await.until("16 writes or another ring-full exit after resume()",
                    () -> writer.writesSoFar() >= 16 || writer.ringFull());
            assertTrue(writer.writesSoFar() > 0, "the session went on after resume()");
            assertTrue(writer.stop().value() > 0);
            assertEquals(3L, memory.segment().get(ValueLayout.JAVA_LONG, 0), "page 0 comes first");
        }
    }

    @Test
    void aKickReturnsAfterTheVcpuLeftKvmRunAndTheSessionGoesOn() {
        try (BackendVm vm = KvmDevice.newVm()) {
            UserMemory memory = vm.mmap(KvmApi.PAGE_SIZE).value();
            // Unlogged: the guest spins in KVM_RUN with no exit at all; only a signal gets it out.
            vm.setUserMemoryRegion(new MemoryRegion(0, 0, GPA, memory.length(), memory.address())).value();
            BackendVcpu vcpu = vm.createVcpu(0).value();
            assertEquals(0, vcpu.kick().value(), "an idle vCPU");
            RandomWriter writer = vcpu.startRandomWrites(new RandomWrites(GPA, 1, 1, 7)).value();
            Await.until("1000 guest writes", () -> writer.writesSoFar() >= 1000);
            for (int i = 0; i < 50; i++) {
                assertEquals(0, vcpu.kick().value());
            }
            long afterKicks = writer.writesSoFar();
            Await.until("the guest runs on after the kicks", () -> writer.writesSoFar() > afterKicks);
            assertTrue(writer.stop().value() > afterKicks);
        }
    }
}
