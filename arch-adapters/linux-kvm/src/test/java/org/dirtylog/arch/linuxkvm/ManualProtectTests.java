package org.dirtylog.arch.linuxkvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.ClearDirtyLog;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserMemory;
import org.junit.jupiter.api.Test;

/** KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) and KVM_CLEAR_DIRTY_LOG through the backend, on the real kernel. */
class ManualProtectTests {

    private static final long GPA = GuestProgram.KIT_BASE;
    private static final long PAGES = 100;
    private static final long ENABLE = KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
    private static final long INITIALLY_SET = KvmApi.KVM_DIRTY_LOG_INITIALLY_SET;

    @Test
    void theFeaturesFollowTheBitsOfTheKernelsMask() {
        assertFalse(LinuxKvmBackend.features(0, 0).contains(Capability.MANUAL_DIRTY_LOG_PROTECT));
        assertTrue(LinuxKvmBackend.features(ENABLE, 0).contains(Capability.MANUAL_DIRTY_LOG_PROTECT));
        assertFalse(LinuxKvmBackend.features(ENABLE, 0).contains(Capability.DIRTY_LOG_INITIALLY_SET));
        assertTrue(LinuxKvmBackend.features(ENABLE | INITIALLY_SET, 0).contains(Capability.DIRTY_LOG_INITIALLY_SET));
        assertFalse(LinuxKvmBackend.features(INITIALLY_SET, 0).contains(Capability.DIRTY_LOG_INITIALLY_SET),
                "INITIALLY_SET means nothing without ENABLE");
    }

    @Test
    void theBackendDeclaresWhatTheKernelReports() {
        try (BackendVm vm = KvmDevice.newVm()) {
            long mask = vm.checkExtension(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2).value();
            Capabilities caps = new LinuxKvmBackend().capabilities();
            assertEquals((mask & ENABLE) != 0, caps.has(Capability.MANUAL_DIRTY_LOG_PROTECT), "mask " + mask);
            assertEquals((mask & (ENABLE | INITIALLY_SET)) == (ENABLE | INITIALLY_SET),
                    caps.has(Capability.DIRTY_LOG_INITIALLY_SET), "mask " + mask);
        }
    }

    /** Returns a VM of a kernel that reports manual protect, skipping the test otherwise. */
    private static BackendVm manualVm() {
        BackendVm vm = KvmDevice.newVm();
        if (!new LinuxKvmBackend().capabilities().has(Capability.MANUAL_DIRTY_LOG_PROTECT)) {
            vm.close();
            assumeTrue(false, "this kernel reports no KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2");
        }
        return vm;
    }

    private static void loggedSlot(BackendVm vm) {
        UserMemory memory = vm.mmap(PAGES * KvmApi.PAGE_SIZE).value();
        assertEquals(IoctlResult.ok(0), vm.setUserMemoryRegion(
                new MemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, GPA, memory.length(), memory.address())));
    }

    /** Returns the two bitmap words GET copies for slot 0. */
    private static long[] get(BackendVm vm, UserMemory buffer) {
        buffer.segment().fill((byte) 0);
        assertEquals(IoctlResult.ok(0), vm.getDirtyLog(0, buffer.address()));
        return new long[] {buffer.segment().get(ValueLayout.JAVA_LONG, 0), buffer.segment().get(ValueLayout.JAVA_LONG, 8)};
    }

    private static void write(BackendVcpu vcpu, long... pages) {
        List<GuestWrite> writes = Arrays.stream(pages).mapToObj(p -> new GuestWrite(GPA + p * KvmApi.PAGE_SIZE, p + 1)).toList();
        assertEquals(IoctlResult.ok(writes.size()), vcpu.runWrites(writes));
    }

    /** Returns a user bitmap of two words, {@code first} and {@code second}, at the start of {@code memory}. */
    private static long mask(UserMemory memory, long first, long second) {
        memory.segment().set(ValueLayout.JAVA_LONG, 0, first);
        memory.segment().set(ValueLayout.JAVA_LONG, 8, second);
        return memory.address();
    }

    @Test
    void enableCapAcceptsTheReportedCombinationsAndRejectsTheOthersWithEinval() {
        try (BackendVm vm = manualVm()) {
            assertEquals(Errno.EINVAL, vm.enableManualDirtyLogProtect(0, INITIALLY_SET).errnoOrNull(), "INITIALLY_SET alone");
            assertEquals(Errno.EINVAL, vm.enableManualDirtyLogProtect(0, 4).errnoOrNull(), "an unknown bit");
            assertEquals(Errno.EINVAL, vm.enableManualDirtyLogProtect(0, ENABLE | 4).errnoOrNull(), "ENABLE and an unknown bit");
            assertEquals(Errno.EINVAL, vm.enableManualDirtyLogProtect(1, ENABLE).errnoOrNull(), "flags != 0");
            assertEquals(IoctlResult.ok(0), vm.enableManualDirtyLogProtect(0, ENABLE));
            assertEquals(IoctlResult.ok(0), vm.enableManualDirtyLogProtect(0, 0));
        }
    }

    @Test
    void inManualModeGetKeepsTheBitsAndClearClearsAndReArmsExactlyWhatItNames() {
        try (BackendVm vm = manualVm()) {
            assertEquals(IoctlResult.ok(0), vm.enableManualDirtyLogProtect(0, ENABLE));
            loggedSlot(vm);
            UserMemory buffer = vm.mmap(KvmApi.PAGE_SIZE).value();
            UserMemory user = vm.mmap(KvmApi.PAGE_SIZE).value();
            BackendVcpu vcpu = vm.createVcpu(0).value();
            write(vcpu, 5, 9, 70, 99);
            long[] dirty = {1L << 5 | 1L << 9, 1L << 6 | 1L << 35};
            assertArrayEquals(dirty, get(vm, buffer));
            assertArrayEquals(dirty, get(vm, buffer), "a second GET in manual mode reports the same pages");

            // Page 5 and page 99 (the partial last word), plus clean pages 6 and 80 and bit 40 past the slot's end.
            long clear = mask(user, 1L << 5 | 1L << 6, 1L << 16 | 1L << 35 | 1L << 40);
            assertEquals(IoctlResult.ok(0), vm.clearDirtyLog(new ClearDirtyLog(0, (int) PAGES, 0, clear)));
            assertArrayEquals(new long[] {1L << 9, 1L << 6}, get(vm, buffer));

            write(vcpu, 5, 99);
            assertArrayEquals(dirty, get(vm, buffer), "writes after CLEAR fault again and are reported");
        }
    }

    @Test
    void aUserBitmapOutsideThisVmsMappingsIsEfaultAndTheKernelNeverReadsJvmMemory() {
        try (BackendVm vm = manualVm(); Arena arena = Arena.ofConfined()) {
            assertEquals(IoctlResult.ok(0), vm.enableManualDirtyLogProtect(0, ENABLE));
            loggedSlot(vm);
            UserMemory buffer = vm.mmap(KvmApi.PAGE_SIZE).value();
            write(vm.createVcpu(0).value(), 3, 64);
            // Read by the kernel, this JVM memory would clear every dirty bit of the slot.
            MemorySegment javaOwned = arena.allocate(16, 8);
            javaOwned.fill((byte) 0xff);

            assertEquals(Errno.EFAULT, vm.clearDirtyLog(new ClearDirtyLog(0, (int) PAGES, 0, javaOwned.address())).errnoOrNull());
            UserMemory straddling = vm.mmap(KvmApi.PAGE_SIZE).value();
            assertEquals(Errno.EFAULT, vm.clearDirtyLog(
                    new ClearDirtyLog(0, (int) PAGES, 0, mask(straddling, 0, 0) + KvmApi.PAGE_SIZE - 8)).errnoOrNull());
            assertArrayEquals(new long[] {1L << 3, 1L}, get(vm, buffer), "no dirty bit was cleared");

            straddling.segment().fill((byte) 0xff);
            long lastSixteen = straddling.address() + KvmApi.PAGE_SIZE - 16;
            assertEquals(IoctlResult.ok(0), vm.clearDirtyLog(new ClearDirtyLog(0, (int) PAGES, 0, lastSixteen)),
                    "a bitmap of exactly ALIGN(num_pages, 64) / 8 bytes ending at the mapping's end");
            assertArrayEquals(new long[] {0, 0}, get(vm, buffer));
        }
    }

    @Test
    void clearChecksItsErrorsInTheKernelsOrder() {
        try (BackendVm vm = manualVm()) {
            loggedSlot(vm);
            UserMemory user = vm.mmap(KvmApi.PAGE_SIZE).value();
            long ones = mask(user, -1L, -1L);
            long unmapped = 8;
            int nr = vm.checkExtension(KvmApi.KVM_CAP_NR_MEMSLOTS).value();
            assertEquals(Errno.EINVAL, vm.clearDirtyLog(new ClearDirtyLog(40_000, 64, 0, unmapped)).errnoOrNull());
            assertEquals(Errno.EINVAL, vm.clearDirtyLog(new ClearDirtyLog(nr, 64, 0, ones)).errnoOrNull(),
                    "the backend's own slot is out of range for the kit");
            assertEquals(Errno.EINVAL, vm.clearDirtyLog(new ClearDirtyLog(0x7fff << 16, 64, 0, ones)).errnoOrNull());
            assertEquals(Errno.EINVAL, vm.clearDirtyLog(new ClearDirtyLog(5, 64, 1, unmapped)).errnoOrNull(),
                    "first_page & 63 is checked before the slot lookup");
            assertEquals(Errno.ENOENT, vm.clearDirtyLog(new ClearDirtyLog(5, 128, 0, unmapped)).errnoOrNull(),
                    "the slot lookup comes before the range check");
            assertEquals(Errno.EINVAL, vm.clearDirtyLog(new ClearDirtyLog(0, 128, 0, unmapped)).errnoOrNull(),
                    "the range check comes before reading the bitmap");
            assertEquals(Errno.EINVAL, vm.clearDirtyLog(new ClearDirtyLog(0, 32, 64, ones)).errnoOrNull());
            assertEquals(Errno.EFAULT, vm.clearDirtyLog(new ClearDirtyLog(0, 64, 0, unmapped)).errnoOrNull());
            assertEquals(IoctlResult.ok(0), vm.clearDirtyLog(new ClearDirtyLog(0, 0, 0, unmapped)), "num_pages 0 reads nothing");
            assertEquals(IoctlResult.ok(0), vm.clearDirtyLog(new ClearDirtyLog(0, 36, 64, ones)));
        }
    }
}
