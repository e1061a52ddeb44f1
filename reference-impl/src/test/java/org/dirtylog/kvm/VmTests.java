package org.dirtylog.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserMemory;
import org.junit.jupiter.api.Test;

/** What only the inside of a VM shows: its memslots array, its bitmaps, its slot limit. */
class VmTests {

    private static final long PAGE = KvmApi.PAGE_SIZE;
    private static final long GPA = 1L << 30;
    private static final int LOG = KvmApi.KVM_MEM_LOG_DIRTY_PAGES;
    private static final long BAD_ADDRESS = 0x1000;

    private static Vm vm() {
        return new RecordingArch(BitmapExchange.PUBLISH_MEMSLOTS).vm();
    }

    /** Every field of every memslot, the addresses and the bits of both bitmaps. */
    private static List<String> observe(Vm vm) {
        List<String> state = new ArrayList<>();
        for (Memslot s : vm.memslots().slots()) {
            state.add(s.id() + ":" + s.baseGfn() + ":" + s.npages() + ":" + s.flags() + ":" + s.userspaceAddr()
                    + ":" + s.memory().address() + ":" + s.arch());
            for (DirtyBitmap b : s.dirtyLogged() ? List.of(s.dirtyBitmap(), s.dirtyBitmapOld()) : List.<DirtyBitmap>of()) {
                StringBuilder bits = new StringBuilder(Long.toHexString(b.address())).append('=');
                for (long p = 0; p < b.byteSize() * 8; p++) {
                    bits.append(b.test(p) ? '1' : '0');
                }
                state.add(bits.toString());
            }
        }
        return state;
    }

    @Test
    void everyFailedCallLeavesTheMemslotsAndBitmapsExactlyAsTheyWere() {
        try (Vm vm = vm()) {
            UserMemory memory = vm.mmap(100 * PAGE).value();
            UserMemory other = vm.mmap(2 * PAGE).value();
            UserMemory scratch = vm.mmap(PAGE).value();
            MemoryRegion r = new MemoryRegion(0, LOG, GPA, 100 * PAGE, memory.address());
            vm.setUserMemoryRegion(r).value();
            vm.setUserMemoryRegion(new MemoryRegion(1, 0, 0, PAGE, other.address())).value();
            Vcpu vcpu = (Vcpu) vm.createVcpu(0).value();
            vcpu.runWrites(List.of(new GuestWrite(GPA + PAGE, 1), new GuestWrite(GPA + 2 * PAGE, 1))).value();
            vm.switchDirtyLog(0).value();
            vcpu.runWrites(List.of(new GuestWrite(GPA + 4 * PAGE, 1), new GuestWrite(GPA + 99 * PAGE, 1))).value();
            List<Function<Vm, IoctlResult<?>>> failing = List.of(
                    x -> x.setUserMemoryRegion(new MemoryRegion(32, 0, 0, PAGE, other.address())),
                    x -> x.setUserMemoryRegion(r.withFlags(KvmApi.KVM_MEM_READONLY)),
                    x -> x.setUserMemoryRegion(new MemoryRegion(0, LOG, GPA, PAGE, memory.address())),
                    x -> x.setUserMemoryRegion(new MemoryRegion(0, LOG, GPA, 100 * PAGE, other.address())),
                    x -> x.setUserMemoryRegion(r.movedTo(0)),
                    x -> x.setUserMemoryRegion(r.movedTo(GPA + 8)),
                    x -> x.setUserMemoryRegion(new MemoryRegion(2, LOG, GPA, PAGE, other.address())),
                    x -> x.setUserMemoryRegion(new MemoryRegion(9, 0, 0, 0, 0)),
                    x -> x.getDirtyLog(0, BAD_ADDRESS),
                    x -> x.getDirtyLog(1, scratch.address()),
                    x -> x.getDirtyLog(40, scratch.address()),
                    x -> x.switchDirtyLog(1),
                    x -> x.switchDirtyLog(40),
                    x -> x.getUserDirtyLogAddr(BAD_ADDRESS),
                    x -> x.createVcpu(0),
                    x -> x.munmap(new UserMemory(BAD_ADDRESS, MemorySegment.NULL)));
            for (int i = 0; i < failing.size(); i++) {
                List<String> before = observe(vm);
                Memslots array = vm.memslots();
                IoctlResult<?> result = failing.get(i).apply(vm);
                assertTrue(!result.isOk(), "call " + i + " should fail");
                assertSame(array, vm.memslots(), "call " + i + " (" + result.errnoOrNull() + ") published a memslots array");
                assertEquals(before, observe(vm), "call " + i + " (" + result.errnoOrNull() + ") changed the VM");
            }
        }
    }

    @Test
    void theSlotLimitIsConfigurableAndBounded() {
        try (Vm vm = new ReferenceBackend("test", "test", () -> new RecordingArch(BitmapExchange.IN_PLACE),
                CoreSeams.KERNEL).createReferenceVm(8)) {
            assertEquals(8, vm.checkExtension(KvmApi.KVM_CAP_NR_MEMSLOTS).value());
            UserMemory m = vm.mmap(PAGE).value();
            assertEquals(Errno.EINVAL, vm.setUserMemoryRegion(new MemoryRegion(8, 0, 0, PAGE, m.address())).errnoOrNull());
            assertEquals(0, vm.setUserMemoryRegion(new MemoryRegion(7, 0, 0, PAGE, m.address())).value());
        }
        ReferenceBackend backend = new ReferenceBackend("test", "test", () -> new RecordingArch(BitmapExchange.IN_PLACE),
                CoreSeams.KERNEL);
        assertThrows(IllegalArgumentException.class, () -> backend.createReferenceVm(0));
        assertThrows(IllegalArgumentException.class, () -> backend.createReferenceVm((1 << 16) + 1));
    }

    @Test
    void aMoveKeepsTheBitmapObjectsAndTheirUserAddresses() {
        try (Vm vm = vm()) {
            UserMemory memory = vm.mmap(4 * PAGE).value();
            MemoryRegion r = new MemoryRegion(0, LOG, GPA, 4 * PAGE, memory.address());
            vm.setUserMemoryRegion(r).value();
            Memslot before = vm.memslots().get(0);
            vm.setUserMemoryRegion(r.movedTo(2 * GPA)).value();
            Memslot after = vm.memslots().get(0);
            assertSame(before.dirtyBitmap(), after.dirtyBitmap());
            assertSame(before.dirtyBitmapOld(), after.dirtyBitmapOld());
            assertTrue(((SlotPageTable) before.arch()).generation() > 0);
            assertThrows(IllegalStateException.class, () -> ((SlotPageTable) before.arch()).isWritable(0),
                    "the old slot's page table is unmapped after the move");
        }
    }

    @Test
    void bitmapsFreedWhenLoggingGoesOffAreNoLongerUserMemory() {
        try (Vm vm = vm()) {
            UserMemory memory = vm.mmap(4 * PAGE).value();
            MemoryRegion r = new MemoryRegion(0, LOG, GPA, 4 * PAGE, memory.address());
            vm.setUserMemoryRegion(r).value();
            DirtyBitmap active = vm.memslots().get(0).dirtyBitmap();
            long address = active.address();
            assertTrue(vm.accessUser(address, 8).isOk());
            vm.setUserMemoryRegion(r.withFlags(0)).value();
            assertTrue(active.isFreed());
            assertEquals(Errno.EFAULT, vm.accessUser(address, 8).errnoOrNull());
        }
    }

    @Test
    void aCheckOfExtensionsAnswersTheRfcGenerationTheSlotLimitAndNothingElse() {
        try (Vm vm = vm()) {
            assertEquals(1, vm.checkExtension(KvmApi.KVM_CAP_USER_DIRTY_LOG).value());
            assertEquals(32, vm.checkExtension(KvmApi.KVM_CAP_NR_MEMSLOTS).value());
            assertEquals(0, vm.checkExtension(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2).value());
        }
    }
}
