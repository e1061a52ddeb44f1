package org.dirtylog.arch.tests;

import static org.dirtylog.arch.tests.Guest.of;
import static org.dirtylog.arch.tests.Guest.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.sun.management.ThreadMXBean;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.dirtylog.defects.Arch;
import org.dirtylog.kvm.Vcpu;
import org.dirtylog.kvm.Vm;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.RandomWriter;
import org.dirtylog.spi.RandomWrites;
import org.dirtylog.spi.UserDirtyLog;
import org.dirtylog.spi.UserMemory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Huge slots, unmapped backing memory, vCPU modes and VM teardown, on every arch. */
class LifecycleTests {

    private static long residentKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS");
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void aLoggedSixtyFourGibSlotCostsOnlyWhatIsTouchedAndReportsItsLastPage(Arch arch) throws IOException {
        long size = 64L << 30;
        long npages = size / KvmApi.PAGE_SIZE;
        try (Vm vm = arch.backend().createReferenceVm()) {
            long before = residentKib();
            UserMemory memory = ok(vm.mmap(size));
            UserMemory scratch = ok(vm.mmap(KvmApi.PAGE_SIZE));
            ok(vm.setUserMemoryRegion(new MemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, 0, size, memory.address())));
            Vcpu vcpu = (Vcpu) ok(vm.createVcpu(0));
            ok(vcpu.runWrites(List.of(new GuestWrite(0, 1), new GuestWrite(size - 8, 2))));
            assertEquals(0, ok(vm.switchDirtyLog(0)));
            new UserDirtyLog(0, 0, 0, 0).writeTo(scratch.segment());
            ok(vm.getUserDirtyLogAddr(scratch.address()));
            UserDirtyLog log = UserDirtyLog.readFrom(scratch.segment());
            long bytes = KvmApi.dirtyBitmapBytes(npages);
            assertEquals(2L << 20, bytes);
            BitSet cold = Guest.bits(ok(vm.accessUser(log.dirtyBitmapOld(), bytes)), npages);
            assertEquals(of(0, npages - 1), cold);
            long grown = residentKib() - before;
            assertTrue(grown < 256 * 1024, "RSS grew by " + grown + " KiB for a 64 GiB slot with two pages touched");
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void aGuestStoreToUnmappedBackingMemoryIsAnEfaultNotACrash(Arch arch) {
        try (Guest g = new Guest(arch)) {
            g.write(1);
            ok(g.vm.munmap(g.memory));
            assertEquals(Errno.EFAULT, g.vcpu.runWrites(List.of(new GuestWrite(Guest.GPA, 1))).errnoOrNull());
            assertEquals(of(1), g.getDirtyLog());
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void aGetRacingTheUnmapOfItsBufferEitherCopiesTheBitsOrFailsWithoutLosingOne(Arch arch) throws InterruptedException {
        try (Guest g = new Guest(arch)) {
            for (int i = 0; i < 400; i++) {
                long page = i % Guest.NPAGES;
                g.write(page);
                UserMemory buffer = ok(g.vm.mmap(KvmApi.PAGE_SIZE));
                AtomicBoolean go = new AtomicBoolean();
                int delay = i % 40;
                AtomicReference<IoctlResult<Integer>> unmapped = new AtomicReference<>();
                Thread unmapper = Thread.ofPlatform().start(() -> {
                    while (!go.get()) {
                        Thread.onSpinWait();
                    }
                    for (int spin = 0; spin < delay * 50; spin++) {
                        Thread.onSpinWait();
                    }
                    unmapped.set(g.vm.munmap(buffer));
                });
                go.set(true);
                IoctlResult<Integer> get = g.vm.getDirtyLog(Guest.SLOT, buffer.address());
                unmapper.join();
                assertEquals(0, ok(unmapped.get()));
                if (!get.isOk()) {
                    assertEquals(Errno.EFAULT, get.errnoOrNull());
                    assertEquals(of(page), g.getDirtyLog(), "iteration " + i + ": a GET that failed with -EFAULT lost the bit");
                }
            }
        }
    }

    /** Waits until {@code writer} made {@code count} writes; fails if it stops making progress or takes over a minute. */
    private static void awaitWrites(RandomWriter writer, long count) {
        long start = System.nanoTime();
        long seen = -1;
        long progressed = start;
        while (writer.writesSoFar() < count) {
            long now = System.nanoTime();
            long n = writer.writesSoFar();
            if (n != seen) {
                seen = n;
                progressed = now;
            }
            if (now - progressed > TimeUnit.SECONDS.toNanos(10) || now - start > TimeUnit.SECONDS.toNanos(60)) {
                IoctlResult<Long> stopped = writer.stop();
                fail("the random writer stalled at " + n + " of " + count + " writes; stop() returned "
                        + (stopped.isOk() ? stopped.value() + " writes" : stopped.errnoOrNull()));
            }
            LockSupport.parkNanos(100_000);
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void randomWritesStoreTheIterationUntilStoppedAndAreAllReported(Arch arch) {
        try (Guest g = new Guest(arch)) {
            RandomWriter writer = ok(g.vcpu.startRandomWrites(new RandomWrites(Guest.GPA, Guest.NPAGES, 77, 1)));
            assertEquals(Errno.EBUSY, g.vcpu.runWrites(List.of(new GuestWrite(Guest.GPA, 1))).errnoOrNull());
            assertEquals(Errno.EBUSY, g.vcpu.startRandomWrites(new RandomWrites(Guest.GPA, 1, 1, 1)).errnoOrNull());
            awaitWrites(writer, 10_000);
            long total = ok(writer.stop());
            assertTrue(total >= 10_000);
            BitSet reported = g.getDirtyLog();
            for (int p = 0; p < Guest.NPAGES; p++) {
                long value = g.memory.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, p * KvmApi.PAGE_SIZE);
                assertEquals(reported.get(p) ? 77 : 0, value, "page " + p);
            }
            assertEquals(1, ok(g.vcpu.runWrites(List.of(new GuestWrite(Guest.GPA, 1)))));
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void randomWritesOutsideEveryMemslotStopWithEfault(Arch arch) {
        try (Guest g = new Guest(arch)) {
            RandomWriter writer = ok(g.vcpu.startRandomWrites(new RandomWrites(0, 4, 1, 1)));
            assertEquals(Errno.EFAULT, writer.stop().errnoOrNull());
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void aClosedVmAnswersEbadfAndClosesIdempotently(Arch arch) {
        Guest g = new Guest(arch);
        RandomWriter writer = ok(g.vcpu.startRandomWrites(new RandomWrites(Guest.GPA, Guest.NPAGES, 1, 1)));
        g.close();
        assertTrue(writer.stop().isOk(), "closing the VM stops its vCPUs");
        g.close();
        assertEquals(Errno.EBADF, g.vm.switchDirtyLog(0).errnoOrNull());
        assertEquals(Errno.EBADF, g.vm.getDirtyLog(0, 0).errnoOrNull());
        assertEquals(Errno.EBADF, g.vm.getUserDirtyLogAddr(0).errnoOrNull());
        assertEquals(Errno.EBADF, g.vm.setUserMemoryRegion(g.region).errnoOrNull());
        assertEquals(Errno.EBADF, g.vm.createVcpu(1).errnoOrNull());
        assertEquals(Errno.EBADF, g.vcpu.runWrites(List.of()).errnoOrNull());
        assertEquals(Errno.EBADF, g.vm.mmap(KvmApi.PAGE_SIZE).errnoOrNull(), "no mapping may outlive the VM");
        assertEquals(Errno.EBADF, g.vm.munmap(g.memory).errnoOrNull());
        assertEquals(Errno.EBADF, g.vm.accessUser(g.memory.address(), 8).errnoOrNull());
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void markPageDirtyMarksTheGfnOfALoggedSlotAndFaultsOutsideEverySlot(Arch arch) {
        try (Guest g = new Guest(arch)) {
            long base = Guest.GPA / KvmApi.PAGE_SIZE;
            assertEquals(0, ok(g.vcpu.markPageDirty(base + 12)));
            assertEquals(Errno.EFAULT, g.vcpu.markPageDirty(3).errnoOrNull());
            assertEquals(of(12), g.getDirtyLog());
        }
    }

    /** Not ia64: its VMM log queues one node per mark by design (a merge then costs O(faults)). */
    @ParameterizedTest
    @EnumSource(value = Arch.class, names = {"X86", "PPC"})
    void markPageDirtyAllocatesNothingPerCall(Arch arch) {
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Guest g = new Guest(arch)) {
            long gfn = Guest.GPA / KvmApi.PAGE_SIZE + 12;
            assertEquals(0, ok(g.vcpu.markPageDirty(gfn)));
            long calls = 20_000;
            long before = threads.getCurrentThreadAllocatedBytes();
            for (long i = 0; i < calls; i++) {
                g.vcpu.markPageDirty(gfn);
            }
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocated < calls, allocated + " bytes allocated by " + calls + " calls");
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void aPageModificationLogFlushMarksEveryGfnBeforeTheFirstOneOutsideEverySlot(Arch arch) {
        try (Guest g = new Guest(arch)) {
            long base = Guest.GPA / KvmApi.PAGE_SIZE;
            long[] pml = {base + 1, base + 64, base + 65, 3, base + 7};
            assertEquals(0, ok(g.vcpu.markPagesDirty(pml, 3)));
            assertEquals(of(1, 64, 65), g.getDirtyLog());
            assertEquals(Errno.EFAULT, g.vcpu.markPagesDirty(pml, 5).errnoOrNull());
            assertEquals(of(1, 64, 65), g.getDirtyLog(), "frames before the faulting one are marked, none after");
            assertEquals(Errno.EINVAL, g.vcpu.markPagesDirty(pml, 6).errnoOrNull());
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void aPageModificationLogAlternatingBetweenTwoSlotsMarksEachPageInItsOwnSlot(Arch arch) {
        try (Guest g = new Guest(arch)) {
            long base = Guest.GPA / KvmApi.PAGE_SIZE;
            long otherGpa = 2L << 30;
            UserMemory otherMemory = g.vm.mmap(64 * KvmApi.PAGE_SIZE).value();
            Guest.ok(g.vm.setUserMemoryRegion(new MemoryRegion(1, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, otherGpa,
                    64 * KvmApi.PAGE_SIZE, otherMemory.address())));
            long otherBase = otherGpa / KvmApi.PAGE_SIZE;
            long[] pml = {base + 5, base + 6, otherBase + 1, otherBase + 63, base + 1026, otherBase};
            assertEquals(0, ok(g.vcpu.markPagesDirty(pml, pml.length)));
            assertEquals(of(5, 6, 1026), g.getDirtyLog());
            Guest.ok(g.vm.getDirtyLog(1, g.scratch.address()));
            assertEquals(of(0, 1, 63), Guest.bits(g.scratch.segment(), 64));
        }
    }
}
