package org.dirtylog.arch.linuxkvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserMemory;
import org.junit.jupiter.api.Test;

class LinuxKvmVmTests {

    private static final long GPA = GuestProgram.KIT_BASE;
    private static final long PAGES = 67;

    private static long[] bitmap(BackendVm vm, UserMemory buffer, int slot) {
        IoctlResult<Integer> r = vm.getDirtyLog(slot, buffer.address());
        assertEquals(IoctlResult.ok(0), r);
        long words = KvmApi.dirtyBitmapBytes(PAGES) / 8;
        long[] out = new long[(int) words];
        for (int i = 0; i < words; i++) {
            out[i] = buffer.segment().get(ValueLayout.JAVA_LONG, i * 8L);
        }
        return out;
    }

    @Test
    void aGuestStoreToALoggedSlotIsReportedOnceByGetDirtyLog() {
        try (BackendVm vm = KvmDevice.newVm()) {
            UserMemory memory = vm.mmap(PAGES * KvmApi.PAGE_SIZE).value();
            UserMemory buffer = vm.mmap(KvmApi.PAGE_SIZE).value();
            MemoryRegion region = new MemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, GPA, memory.length(), memory.address());
            assertEquals(IoctlResult.ok(0), vm.setUserMemoryRegion(region));
            BackendVcpu vcpu = vm.createVcpu(0).value();

            IoctlResult<Integer> ran = vcpu.runWrites(List.of(
                    new GuestWrite(GPA + 5 * KvmApi.PAGE_SIZE, 0x1111),
                    new GuestWrite(GPA + 66 * KvmApi.PAGE_SIZE + 8, 0x2222)));

            assertEquals(IoctlResult.ok(2), ran);
            assertEquals(0x1111, memory.segment().get(ValueLayout.JAVA_LONG, 5 * KvmApi.PAGE_SIZE));
            assertEquals(0x2222, memory.segment().get(ValueLayout.JAVA_LONG, 66 * KvmApi.PAGE_SIZE + 8));
            long[] first = bitmap(vm, buffer, 0);
            assertEquals(1L << 5, first[0]);
            assertEquals(1L << 2, first[1]);
            long[] second = bitmap(vm, buffer, 0);
            assertEquals(0, second[0] | second[1]);
        }
    }

    @Test
    void aBatchLargerThanTheSharedAreaIsWrittenInFull() {
        try (BackendVm vm = KvmDevice.newVm()) {
            UserMemory memory = vm.mmap(PAGES * KvmApi.PAGE_SIZE).value();
            vm.setUserMemoryRegion(new MemoryRegion(0, 0, GPA, memory.length(), memory.address())).value();
            BackendVcpu vcpu = vm.createVcpu(0).value();
            int n = GuestProgram.BATCH_CAPACITY * 2 + 7;
            List<GuestWrite> writes = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                writes.add(new GuestWrite(GPA + (i % PAGES) * KvmApi.PAGE_SIZE + (i / PAGES) * 8L, i));
            }
            assertEquals(IoctlResult.ok(n), vcpu.runWrites(writes));
            for (int i = 0; i < n; i++) {
                assertEquals(i, memory.segment().get(ValueLayout.JAVA_LONG, (i % PAGES) * KvmApi.PAGE_SIZE + (i / PAGES) * 8L));
            }
        }
    }

    private static UserMemory loggedSlot(BackendVm vm, int slot, long gpa) {
        UserMemory memory = vm.mmap(PAGES * KvmApi.PAGE_SIZE).value();
        assertEquals(IoctlResult.ok(0), vm.setUserMemoryRegion(
                new MemoryRegion(slot, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, gpa, memory.length(), memory.address())));
        return memory;
    }

    @Test
    void getDirtyLogOnACleanSlotOverwritesTheWholeBufferWithZeros() {
        try (BackendVm vm = KvmDevice.newVm()) {
            loggedSlot(vm, 0, GPA);
            UserMemory buffer = vm.mmap(KvmApi.PAGE_SIZE).value();
            buffer.segment().fill((byte) 0xff);
            long[] words = bitmap(vm, buffer, 0);
            assertEquals(0, words[0] | words[1]);
        }
    }

    @Test
    void loggingOffMakesGetDirtyLogReturnEnoentAndOnAgainStartsClean() {
        try (BackendVm vm = KvmDevice.newVm()) {
            UserMemory memory = loggedSlot(vm, 0, GPA);
            UserMemory buffer = vm.mmap(KvmApi.PAGE_SIZE).value();
            BackendVcpu vcpu = vm.createVcpu(0).value();
            vcpu.runWrites(List.of(new GuestWrite(GPA, 1))).value();
            MemoryRegion region = new MemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, GPA, memory.length(), memory.address());

            assertEquals(IoctlResult.ok(0), vm.setUserMemoryRegion(region.withFlags(0)));
            assertEquals(Errno.ENOENT, vm.getDirtyLog(0, buffer.address()).errnoOrNull());
            assertEquals(IoctlResult.ok(0), vm.setUserMemoryRegion(region));
            long[] words = bitmap(vm, buffer, 0);
            assertEquals(0, words[0] | words[1]);
        }
    }

    @Test
    void movingALoggedSlotKeepsItsPendingBits() {
        try (BackendVm vm = KvmDevice.newVm()) {
            UserMemory memory = loggedSlot(vm, 0, GPA);
            UserMemory buffer = vm.mmap(KvmApi.PAGE_SIZE).value();
            vm.createVcpu(0).value().runWrites(List.of(new GuestWrite(GPA + 3 * KvmApi.PAGE_SIZE, 7))).value();
            MemoryRegion region = new MemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, GPA, memory.length(), memory.address());

            assertEquals(IoctlResult.ok(0), vm.setUserMemoryRegion(region.movedTo(GPA + 0x100_0000)));
            assertEquals(1L << 3, bitmap(vm, buffer, 0)[0]);
        }
    }

    @Test
    void getDirtyLogErrorsComeInTheKernelsCheckOrder() {
        try (BackendVm vm = KvmDevice.newVm()) {
            loggedSlot(vm, 0, GPA);
            UserMemory buffer = vm.mmap(KvmApi.PAGE_SIZE).value();
            assertEquals(Errno.EINVAL, vm.getDirtyLog(40_000, buffer.address()).errnoOrNull());
            assertEquals(Errno.ENOENT, vm.getDirtyLog(1, buffer.address()).errnoOrNull());
            assertEquals(Errno.EFAULT, vm.getDirtyLog(0, 8).errnoOrNull());
        }
    }

    @Test
    void theBackendMemslotIsReservedAndTheRfcCapabilityIsAbsent() {
        try (BackendVm vm = KvmDevice.newVm()) {
            int slots = vm.checkExtension(KvmApi.KVM_CAP_NR_MEMSLOTS).value();
            assertTrue(slots > 1);
            UserMemory memory = vm.mmap(KvmApi.PAGE_SIZE).value();
            assertEquals(Errno.EINVAL, vm.setUserMemoryRegion(
                    new MemoryRegion(slots, 0, GPA, memory.length(), memory.address())).errnoOrNull());
            assertEquals(IoctlResult.ok(0), vm.setUserMemoryRegion(
                    new MemoryRegion(slots - 1, 0, GPA, memory.length(), memory.address())));
            assertEquals(IoctlResult.ok(0), vm.checkExtension(KvmApi.KVM_CAP_USER_DIRTY_LOG));
            assertEquals(Errno.ENOTTY, vm.getUserDirtyLogAddr(memory.address()).errnoOrNull());
            assertEquals(Errno.ENOTTY, vm.switchDirtyLog(0).errnoOrNull());
        }
    }

    @Test
    void accessUserReadsOnlyMemoryThisVmMapped() {
        try (BackendVm vm = KvmDevice.newVm()) {
            UserMemory memory = vm.mmap(2 * KvmApi.PAGE_SIZE).value();
            memory.segment().set(ValueLayout.JAVA_LONG, KvmApi.PAGE_SIZE, 42L);
            MemorySegment view = vm.accessUser(memory.address() + KvmApi.PAGE_SIZE, 8).value();
            assertEquals(42L, view.get(ValueLayout.JAVA_LONG, 0));
            assertEquals(Errno.EFAULT, vm.accessUser(memory.address() + KvmApi.PAGE_SIZE, KvmApi.PAGE_SIZE + 1).errnoOrNull());
            assertEquals(Errno.EFAULT, vm.accessUser(8, 8).errnoOrNull());
            assertEquals(Errno.EFAULT, vm.accessUser(-8, 16).errnoOrNull());
            assertEquals(IoctlResult.ok(0), vm.munmap(memory));
            assertEquals(Errno.EFAULT, vm.accessUser(memory.address(), 8).errnoOrNull());
            assertEquals(Errno.EINVAL, vm.munmap(memory).errnoOrNull());
            assertEquals(Errno.EINVAL, vm.mmap(100).errnoOrNull());
        }
    }

    @Test
    void aWriteOutsideEveryMemslotIsEfaultAndTheVcpuStillRunsAfterwards() {
        try (BackendVm vm = KvmDevice.newVm()) {
            UserMemory memory = loggedSlot(vm, 0, GPA);
            BackendVcpu vcpu = vm.createVcpu(0).value();
            assertEquals(Errno.EFAULT, vcpu.runWrites(List.of(new GuestWrite(GPA + 0x1000_0000, 1))).errnoOrNull());
            assertEquals(Errno.EFAULT, vcpu.runWrites(List.of(new GuestWrite(GuestProgram.CODE_GPA, 1))).errnoOrNull());
            assertEquals(Errno.EFAULT, vcpu.runWrites(List.of(new GuestWrite(GuestProgram.KIT_LIMIT, 1))).errnoOrNull());
            assertEquals(IoctlResult.ok(1), vcpu.runWrites(List.of(new GuestWrite(GPA + 8, 9))));
            assertEquals(9L, memory.segment().get(ValueLayout.JAVA_LONG, 8));
        }
    }

    @Test
    void munmapIsEbusyWhileAMemslotCoversAnyByteOfTheRangeAndSucceedsOnceTheSlotIsDeleted() {
        try (BackendVm vm = KvmDevice.newVm()) {
            UserMemory memory = vm.mmap(4 * KvmApi.PAGE_SIZE).value();
            // The slot covers only the last page, so a check of the start address alone would miss it.
            MemoryRegion region = new MemoryRegion(3, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, GPA, KvmApi.PAGE_SIZE,
                    memory.address() + 3 * KvmApi.PAGE_SIZE);
            assertEquals(IoctlResult.ok(0), vm.setUserMemoryRegion(region));
            BackendVcpu vcpu = vm.createVcpu(0).value();

            assertEquals(Errno.EBUSY, vm.munmap(memory).errnoOrNull());
            assertEquals(IoctlResult.ok(1), vcpu.runWrites(List.of(new GuestWrite(GPA + 16, 77))));
            assertEquals(77L, memory.segment().get(ValueLayout.JAVA_LONG, 3 * KvmApi.PAGE_SIZE + 16));
            assertEquals(IoctlResult.ok(0), vm.setUserMemoryRegion(region.withFlags(0)));
            assertEquals(Errno.EBUSY, vm.munmap(memory).errnoOrNull());

            assertEquals(IoctlResult.ok(0), vm.setUserMemoryRegion(
                    new MemoryRegion(3, 0, GPA, 0, memory.address() + 3 * KvmApi.PAGE_SIZE)));
            assertEquals(IoctlResult.ok(0), vm.munmap(memory));
            assertEquals(Errno.EFAULT, vm.accessUser(memory.address(), 8).errnoOrNull());
        }
    }

    @Test
    void getDirtyLogIntoJavaOwnedNativeMemoryIsEfaultAndLeavesItsBytesUnchanged() {
        try (BackendVm vm = KvmDevice.newVm(); Arena arena = Arena.ofConfined()) {
            UserMemory memory = loggedSlot(vm, 0, GPA);
            vm.createVcpu(0).value().runWrites(List.of(new GuestWrite(GPA + 3 * KvmApi.PAGE_SIZE, 7))).value();
            long bytes = KvmApi.dirtyBitmapBytes(PAGES);
            MemorySegment javaOwned = arena.allocate(bytes, 8);
            javaOwned.fill((byte) 0x5a);
            UserMemory straddling = vm.mmap(KvmApi.PAGE_SIZE).value();

            assertEquals(Errno.EFAULT, vm.getDirtyLog(0, javaOwned.address()).errnoOrNull());
            for (long i = 0; i < bytes; i++) {
                assertEquals((byte) 0x5a, javaOwned.get(ValueLayout.JAVA_BYTE, i), "byte " + i);
            }
            // The bitmap's last 8 bytes would fall past the end of this VM's mapping.
            assertEquals(Errno.EFAULT, vm.getDirtyLog(0, straddling.address() + KvmApi.PAGE_SIZE - 8).errnoOrNull());
            assertEquals(Errno.EFAULT, vm.getDirtyLog(0, memory.address() + memory.length() - 8).errnoOrNull());
            assertEquals(Errno.ENOENT, vm.getDirtyLog(1, javaOwned.address()).errnoOrNull());
            assertEquals(Errno.EINVAL, vm.getDirtyLog(40_000, javaOwned.address()).errnoOrNull());
            assertEquals(IoctlResult.ok(0), vm.getDirtyLog(0, straddling.address()));
        }
    }
}
