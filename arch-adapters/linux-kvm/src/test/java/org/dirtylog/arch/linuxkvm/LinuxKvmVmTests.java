package org.dirtylog.arch.linuxkvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
