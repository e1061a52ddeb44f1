package org.dirtylog.arch.linuxkvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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

    @Test
    void stopEndsRandomWritingAndReturnsTheWriteCount() throws InterruptedException {
        try (BackendVm vm = KvmDevice.newVm()) {
            UserMemory memory = vm.mmap(16 * KvmApi.PAGE_SIZE).value();
            vm.setUserMemoryRegion(new MemoryRegion(0, 0, GPA, memory.length(), memory.address())).value();
            BackendVcpu vcpu = vm.createVcpu(0).value();
            RandomWriter writer = vcpu.startRandomWrites(new RandomWrites(GPA, 16, 5, 1)).value();
            Thread.sleep(50);
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
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (writer.writesSoFar() < 1000 && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertTrue(writer.writesSoFar() >= 1000, "guest never ran");
            // Wide on purpose: without the kick close() never returns; a slow machine must not fail here.
            assertTimeoutPreemptively(Duration.ofSeconds(30), vm::close, "close() never kicked the vCPU out of KVM_RUN");
            assertEquals(Errno.EINTR, writer.stop().errnoOrNull());
        }
    }

    @Test
    void interruptingACallerInRunWritesKicksTheVcpuAndReturnsEintr() throws InterruptedException {
        try (BackendVm vm = KvmDevice.newVm()) {
            UserMemory memory = vm.mmap(256 * KvmApi.PAGE_SIZE).value();
            BackendVcpu vcpu = loggedSlotAndVcpu(vm, memory);
            IoctlResult<?>[] result = new IoctlResult<?>[1];
            Thread caller = startLongBatch(vcpu, result);
            caller.interrupt();
            caller.join(5000);
            assertEquals(Errno.EINTR, result[0].errnoOrNull());
            assertEquals(IoctlResult.ok(1), vcpu.runWrites(List.of(new GuestWrite(GPA + 8, 3))));
            assertEquals(3L, memory.segment().get(ValueLayout.JAVA_LONG, 8));
        }
    }

    @Test
    void closingTheVmWhileACallerWaitsInRunWritesReturnsEintrToIt() throws InterruptedException {
        BackendVm vm = KvmDevice.newVm();
        BackendVcpu vcpu = loggedSlotAndVcpu(vm, vm.mmap(256 * KvmApi.PAGE_SIZE).value());
        IoctlResult<?>[] result = new IoctlResult<?>[1];
        Thread caller = startLongBatch(vcpu, result);
        vm.close();
        caller.join(5000);
        assertEquals(Errno.EINTR, result[0].errnoOrNull());
        assertEquals(Errno.EBADF, vcpu.runWrites(List.of(new GuestWrite(GPA, 1))).errnoOrNull());
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
            Thread.sleep(50);
            assertTrue(second.writesSoFar() > before, "the second session stopped with the first writer");
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
     * Starts a thread running a batch of 2,000,000 writes (far longer than the test waits) and
     * returns it once the guest has had 200 ms to get going; its result lands in {@code result[0]}.
     */
    private static Thread startLongBatch(BackendVcpu vcpu, IoctlResult<?>[] result) throws InterruptedException {
        List<GuestWrite> writes = new ArrayList<>();
        for (int i = 0; i < 2_000_000; i++) {
            writes.add(new GuestWrite(GPA + (i % 256) * KvmApi.PAGE_SIZE, i));
        }
        Thread caller = new Thread(() -> result[0] = vcpu.runWrites(writes));
        caller.start();
        Thread.sleep(200);
        return caller;
    }
}
