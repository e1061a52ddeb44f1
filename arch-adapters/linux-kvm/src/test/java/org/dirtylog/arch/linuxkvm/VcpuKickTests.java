package org.dirtylog.arch.linuxkvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.RandomWriter;
import org.dirtylog.spi.RandomWrites;
import org.dirtylog.spi.UserMemory;
import org.junit.jupiter.api.Test;

/**
 * The vCPU thread leaves KVM_RUN when asked: by the stop flag, by close() while the guest spins
 * without any exit (only the signal can reach it then), and by interruption of the caller.
 */
class VcpuKickTests {

    private static final long GPA = GuestProgram.KIT_BASE;
    // Far more writes than the time between the guest's first write and the test's next step.
    private static final int LONG_BATCH = 2_000_000;
    private static final VarHandle PAGE_VALUE = ValueLayout.JAVA_LONG.varHandle();

    @Test
    void stopEndsRandomWritingAndReturnsTheWriteCount() throws InterruptedException {
        try (BackendVm vm = KvmDevice.newVm()) {
            UserMemory memory = vm.mmap(16 * KvmApi.PAGE_SIZE).value();
            vm.setUserMemoryRegion(new MemoryRegion(0, 0, GPA, memory.length(), memory.address())).value();
            BackendVcpu vcpu = vm.createVcpu(0).value();
            RandomWriter writer = vcpu.startRandomWrites(new RandomWrites(GPA, 16, 5, 1)).value();
            Await.until("the guest made a write", () -> writer.writesSoFar() > 0);
            long total = writer.stop().value();
            assertTrue(total > 0);
            assertEquals(total, writer.writesSoFar());
            assertEquals(IoctlResult.ok(1), vcpu.runWrites(List.of(new GuestWrite(GPA, 3))));
        }
    }

    @Test
    void closingTheVmKicksAGuestThatNeverExits() throws InterruptedException {
        for (int round = 0; round < 20; round++) {
            BackendVm vm = KvmDevice.newVm();
            UserMemory memory = vm.mmap(KvmApi.PAGE_SIZE).value();
            // No logging: after the first fault the page stays writable and the guest spins in KVM_RUN.
            vm.setUserMemoryRegion(new MemoryRegion(0, 0, GPA, memory.length(), memory.address())).value();
            BackendVcpu vcpu = vm.createVcpu(0).value();
            RandomWriter writer = vcpu.startRandomWrites(new RandomWrites(GPA, 1, 1, round)).value();
            Await.until("the guest made 1000 writes", () -> writer.writesSoFar() >= 1000);
            // Without the kick close() never returns; the bound only turns that hang into a failure.
            assertTimeoutPreemptively(Await.HANG, vm::close, "close() never kicked the vCPU out of KVM_RUN");
            assertEquals(Errno.EINTR, writer.stop().errnoOrNull());
        }
    }

    @Test
    void interruptingACallerInRunWritesKicksTheVcpuAndReturnsEintr() throws InterruptedException {
        try (BackendVm vm = KvmDevice.newVm()) {
            UserMemory memory = vm.mmap(256 * KvmApi.PAGE_SIZE).value();
            BackendVcpu vcpu = loggedSlotAndVcpu(vm, memory);
            IoctlResult<Integer> result = stopMidBatch(() -> vcpu, () -> memory, Thread::interrupt);
            assertEquals(Errno.EINTR, result.errnoOrNull(), result.toString());
            assertEquals(IoctlResult.ok(1), vcpu.runWrites(List.of(new GuestWrite(GPA + 8, 3))));
            assertEquals(3L, memory.segment().get(ValueLayout.JAVA_LONG, 8));
        }
    }

    @Test
    void closingTheVmWhileACallerWaitsInRunWritesReturnsEintrToIt() throws InterruptedException {
        List<BackendVm> vms = new ArrayList<>();
        List<UserMemory> memories = new ArrayList<>();
        List<BackendVcpu> vcpus = new ArrayList<>();
        IoctlResult<Integer> result = stopMidBatch(() -> {
            vms.add(KvmDevice.newVm());
            memories.add(vms.getLast().mmap(256 * KvmApi.PAGE_SIZE).value());
            vcpus.add(loggedSlotAndVcpu(vms.getLast(), memories.getLast()));
            return vcpus.getLast();
        }, memories::getLast, caller -> vms.getLast().close());
        assertEquals(Errno.EINTR, result.errnoOrNull(), result.toString());
        assertEquals(Errno.EBADF, vcpus.getLast().runWrites(List.of(new GuestWrite(GPA, 1))).errnoOrNull());
    }

    @Test
    void aVcpuRunsOneSessionAtATimeAndAnOldWriterCannotStopANewOne() throws InterruptedException {
        try (BackendVm vm = KvmDevice.newVm()) {
            UserMemory memory = vm.mmap(16 * KvmApi.PAGE_SIZE).value();
            vm.setUserMemoryRegion(new MemoryRegion(0, 0, GPA, memory.length(), memory.address())).value();
            BackendVcpu vcpu = vm.createVcpu(0).value();
            RandomWriter first = vcpu.startRandomWrites(new RandomWrites(GPA, 16, 1, 1)).value();
            assertEquals(Errno.EBUSY, vcpu.startRandomWrites(new RandomWrites(GPA, 16, 2, 2)).errnoOrNull());
            assertEquals(Errno.EBUSY, vcpu.runWrites(List.of(new GuestWrite(GPA, 1))).errnoOrNull());
            long firstTotal = first.stop().value();

            RandomWriter second = vcpu.startRandomWrites(new RandomWrites(GPA, 16, 2, 2)).value();
            assertEquals(IoctlResult.ok(firstTotal), first.stop());
            assertEquals(firstTotal, first.writesSoFar());
            long before = second.writesSoFar();
            Await.until("the second session goes on writing after the first writer's stop",
                    () -> second.writesSoFar() > before);
            assertTrue(second.stop().value() > 0);
        }
    }

    /** Registers {@code memory} as logged slot 0 at {@link #GPA} and returns vCPU 0. */
    private static BackendVcpu loggedSlotAndVcpu(BackendVm vm, UserMemory memory) {
        vm.setUserMemoryRegion(new MemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, GPA, memory.length(),
                memory.address())).value();
        return vm.createVcpu(0).value();
    }

    /**
     * Runs a long batch on a thread of its own and, once the guest is seen running it, applies
     * {@code stop} to that thread; returns the batch's result. The batch might still end before
     * the stop lands: such a round proves nothing and another one runs (on a fresh vCPU from
     * {@code vcpu}), at most five.
     */
    private static IoctlResult<Integer> stopMidBatch(Supplier<BackendVcpu> vcpu, Supplier<UserMemory> memory,
                                                     Consumer<Thread> stop) throws InterruptedException {
        List<GuestWrite> writes = new ArrayList<>();
        for (int i = 0; i < LONG_BATCH; i++) {
            writes.add(new GuestWrite(GPA + (i % 256) * KvmApi.PAGE_SIZE, i));
        }
        IoctlResult<Integer> result = null;
        for (int round = 0; round < 5 && (result == null || result.equals(IoctlResult.ok(LONG_BATCH))); round++) {
            BackendVcpu running = vcpu.get();
            MemorySegment pages = memory.get().segment();
            // Native memory: page 1's first long, 0 until the guest stores write 1 of the batch.
            pages.set(ValueLayout.JAVA_LONG, KvmApi.PAGE_SIZE, 0L);
            AtomicReference<IoctlResult<Integer>> done = new AtomicReference<>();
            Thread caller = Thread.ofPlatform().start(() -> done.set(running.runWrites(writes)));
            // Native memory: written by the guest; a volatile read sees its stores.
            Await.until("the guest runs the batch", () -> done.get() != null
                    || (long) PAGE_VALUE.getVolatile(pages, KvmApi.PAGE_SIZE) != 0);
            stop.accept(caller);
            Await.join(caller);
            result = done.get();
        }
        return result;
    }
}
