package org.dirtylog.arch.tests;

import static org.dirtylog.arch.tests.Guest.GPA;
import static org.dirtylog.arch.tests.Guest.NPAGES;
import static org.dirtylog.arch.tests.Guest.SLOT;
import static org.dirtylog.arch.tests.Guest.of;
import static org.dirtylog.arch.tests.Guest.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.EnumSet;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.dirtylog.kvm.Defect;
import org.dirtylog.kvm.Memslot;
import org.dirtylog.spi.DirtyLogBackend;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserDirtyLog;
import org.dirtylog.spi.UserMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The rules of the semantics note §1–§3, each on x86, ppc and ia64. */
class SemanticsTests {

    private static final long PAGE = KvmApi.PAGE_SIZE;
    private static final long BAD_ADDRESS = 0x1000;

    // ---- §1 the RFC API ----

    @ParameterizedTest
    @EnumSource(Arch.class)
    void checkExtensionAnswersGenerationOneForUserDirtyLogAndTheSlotLimit(Arch arch) {
        try (Guest g = new Guest(arch)) {
            assertEquals(1, ok(g.vm.checkExtension(KvmApi.KVM_CAP_USER_DIRTY_LOG)));
            assertEquals(32, ok(g.vm.checkExtension(KvmApi.KVM_CAP_NR_MEMSLOTS)));
            assertEquals(0, ok(g.vm.checkExtension(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)));
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void theSlotLimitIsConfigurable(Arch arch) {
        try (var vm = arch.backend().createReferenceVm(8)) {
            assertEquals(8, ok(vm.checkExtension(KvmApi.KVM_CAP_NR_MEMSLOTS)));
            UserMemory m = ok(vm.mmap(PAGE));
            assertEquals(Errno.EINVAL, vm.setUserMemoryRegion(new MemoryRegion(8, 0, 0, PAGE, m.address())).errnoOrNull());
            assertEquals(0, ok(vm.setUserMemoryRegion(new MemoryRegion(7, 0, 0, PAGE, m.address()))));
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void getUserDirtyLogAddrReturnsTwoDistinctZeroedBitmapsReadableAtTheirAddresses(Arch arch) {
        try (Guest g = new Guest(arch)) {
            UserDirtyLog log = g.addresses();
            assertEquals(SLOT, log.slot());
            assertNotEquals(log.dirtyBitmap(), log.dirtyBitmapOld());
            assertTrue(g.bitmapAt(log.dirtyBitmap()).isEmpty());
            assertTrue(g.bitmapAt(log.dirtyBitmapOld()).isEmpty());
            assertTrue(ok(g.vm.accessUser(log.dirtyBitmap(), g.bitmapBytes())).byteSize() == g.bitmapBytes());
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void switchOnACleanSlotReturnsOneAndKeepsTheRoles(Arch arch) {
        try (Guest g = new Guest(arch)) {
            UserDirtyLog before = g.addresses();
            assertEquals(1, ok(g.vm.switchDirtyLog(SLOT)));
            assertEquals(before, g.addresses());
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void switchAfterAWriteReturnsZeroAndTheFormerActiveBitmapHoldsExactlyThePage(Arch arch) {
        try (Guest g = new Guest(arch)) {
            UserDirtyLog before = g.addresses();
            g.write(5, 64, NPAGES - 1);
            assertEquals(0, ok(g.vm.switchDirtyLog(SLOT)));
            UserDirtyLog after = g.addresses();
            assertEquals(before.dirtyBitmap(), after.dirtyBitmapOld());
            assertEquals(before.dirtyBitmapOld(), after.dirtyBitmap());
            assertEquals(of(5, 64, NPAGES - 1), g.bitmapAt(after.dirtyBitmapOld()));
            assertTrue(g.bitmapAt(after.dirtyBitmap()).isEmpty());
            assertEquals(1, ok(g.vm.switchDirtyLog(SLOT)), "nothing written since the switch");
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void theBitmapThatBecomesActiveWasClearedSoTheColdOneHoldsOnlyPagesSinceTheLastSwitch(Arch arch) {
        try (Guest g = new Guest(arch)) {
            theBitmapThatBecomesActiveWasClearedSoTheColdOneHoldsOnlyPagesSinceTheLastSwitch(g);
        }
    }

    static void theBitmapThatBecomesActiveWasClearedSoTheColdOneHoldsOnlyPagesSinceTheLastSwitch(Guest g) {
        g.write(1);
        assertEquals(0, ok(g.vm.switchDirtyLog(SLOT)));
        g.write(2);
        assertEquals(0, ok(g.vm.switchDirtyLog(SLOT)));
        g.write(3);
        assertEquals(0, ok(g.vm.switchDirtyLog(SLOT)));
        assertEquals(of(3), g.bitmapAt(g.addresses().dirtyBitmapOld()));
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void aPageWrittenAgainAfterASwitchIsReportedByTheNextSwitch(Arch arch) {
        try (Guest g = new Guest(arch)) {
            g.write(7);
            assertEquals(0, ok(g.vm.switchDirtyLog(SLOT)));
            g.write(7);
            assertEquals(0, ok(g.vm.switchDirtyLog(SLOT)), "the second write must fault and mark the new bitmap");
            assertEquals(of(7), g.bitmapAt(g.addresses().dirtyBitmapOld()));
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void bitsAtOrPastNpagesAreZeroInBothBitmaps(Arch arch) {
        try (Guest g = new Guest(arch)) {
            bitsAtOrPastNpagesAreZeroInBothBitmaps(g);
        }
    }

    static void bitsAtOrPastNpagesAreZeroInBothBitmaps(Guest g) {
        for (long p = 0; p < NPAGES; p++) {
            g.write(p);
        }
        assertEquals(0, ok(g.vm.switchDirtyLog(SLOT)));
        UserDirtyLog log = g.addresses();
        BitSet expected = new BitSet();
        expected.set(0, (int) NPAGES);
        assertEquals(expected, g.bitmapAt(log.dirtyBitmapOld()));
        assertTrue(g.bitmapAt(log.dirtyBitmap()).isEmpty());
        assertEquals(((NPAGES + 63) / 64) * 8, g.bitmapBytes());
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void switchAndAddressErrorsComeInCheckOrder(Arch arch) {
        try (Guest g = new Guest(arch)) {
            UserMemory m = ok(g.vm.mmap(PAGE));
            ok(g.set(new MemoryRegion(1, 0, 0, PAGE, m.address())));
            assertEquals(Errno.EINVAL, g.vm.switchDirtyLog(32).errnoOrNull());
            assertEquals(Errno.EINVAL, g.vm.switchDirtyLog(-1).errnoOrNull());
            assertEquals(Errno.EINVAL, g.vm.switchDirtyLog(1 << 16).errnoOrNull());
            assertEquals(Errno.ENOENT, g.vm.switchDirtyLog(5).errnoOrNull());
            assertEquals(Errno.ENOENT, g.vm.switchDirtyLog(1).errnoOrNull());
            MemorySegment arg = g.scratch.segment();
            assertEquals(Errno.EFAULT, g.vm.getUserDirtyLogAddr(BAD_ADDRESS).errnoOrNull());
            assertEquals(Errno.EFAULT, g.vm.getUserDirtyLogAddr(g.scratch.address() + 16 * PAGE - 8).errnoOrNull(),
                    "struct straddling the end of the mapping");
            new UserDirtyLog(32, 0, 0, 0).writeTo(arg);
            assertEquals(Errno.EINVAL, g.vm.getUserDirtyLogAddr(g.scratch.address()).errnoOrNull());
            new UserDirtyLog(5, 0, 0, 0).writeTo(arg);
            assertEquals(Errno.ENOENT, g.vm.getUserDirtyLogAddr(g.scratch.address()).errnoOrNull());
            new UserDirtyLog(1, 0, 0, 0).writeTo(arg);
            assertEquals(Errno.ENOENT, g.vm.getUserDirtyLogAddr(g.scratch.address()).errnoOrNull());
        }
    }

    // ---- §2 KVM_GET_DIRTY_LOG ----

    @ParameterizedTest
    @EnumSource(Arch.class)
    void getWritesExactlyTheBitmapSizeIncludingZeroWordsAndNothingBeyond(Arch arch) {
        try (Guest g = new Guest(arch)) {
            g.scratch.segment().fill((byte) 0xff);
            g.write(3, NPAGES - 1);
            ok(g.vm.getDirtyLog(SLOT, g.scratch.address()));
            assertEquals(of(3, NPAGES - 1), Guest.bits(g.scratch.segment(), g.bitmapBytes() * 8));
            assertEquals(-1L, g.scratch.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, g.bitmapBytes()));
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void getOnACleanSlotReturnsZeroWithAnAllZeroBuffer(Arch arch) {
        try (Guest g = new Guest(arch)) {
            getOnACleanSlotReturnsZeroWithAnAllZeroBuffer(g);
        }
    }

    static void getOnACleanSlotReturnsZeroWithAnAllZeroBuffer(Guest g) {
        g.scratch.segment().fill((byte) 0xff);
        assertEquals(0, ok(g.vm.getDirtyLog(SLOT, g.scratch.address())));
        assertTrue(Guest.bits(g.scratch.segment(), g.bitmapBytes() * 8).isEmpty());
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void getClearsWhatItReportsAndReArmsTracking(Arch arch) {
        try (Guest g = new Guest(arch)) {
            g.write(9);
            assertEquals(of(9), g.getDirtyLog());
            assertEquals(of(), g.getDirtyLog());
            g.write(9);
            assertEquals(of(9), g.getDirtyLog());
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void getErrorsComeInCheckOrderAndAFaultLosesNoBit(Arch arch) {
        try (Guest g = new Guest(arch)) {
            UserMemory m = ok(g.vm.mmap(PAGE));
            ok(g.set(new MemoryRegion(1, 0, 0, PAGE, m.address())));
            g.write(4);
            assertEquals(Errno.EINVAL, g.vm.getDirtyLog(32, BAD_ADDRESS).errnoOrNull());
            assertEquals(Errno.EINVAL, g.vm.getDirtyLog(1 << 16, g.scratch.address()).errnoOrNull());
            assertEquals(Errno.ENOENT, g.vm.getDirtyLog(5, BAD_ADDRESS).errnoOrNull());
            assertEquals(Errno.ENOENT, g.vm.getDirtyLog(1, BAD_ADDRESS).errnoOrNull());
            assertEquals(Errno.EFAULT, g.vm.getDirtyLog(SLOT, BAD_ADDRESS).errnoOrNull());
            assertEquals(Errno.EFAULT, g.vm.getDirtyLog(SLOT, g.scratch.address() + 16 * PAGE - 8).errnoOrNull());
            assertEquals(of(4), g.getDirtyLog(), "the bits must survive the -EFAULT");
        }
    }

    // ---- §3 KVM_SET_USER_MEMORY_REGION ----

    @ParameterizedTest
    @EnumSource(Arch.class)
    void setUserMemoryRegionRejectsBadArgumentsWithEinvalAndOverlapWithEexist(Arch arch) {
        try (Guest g = new Guest(arch)) {
            UserMemory m = ok(g.vm.mmap(4 * PAGE));
            long u = m.address();
            int log = KvmApi.KVM_MEM_LOG_DIRTY_PAGES;
            assertEquals(Errno.EINVAL, g.vm.setUserMemoryRegion(new MemoryRegion(32, 0, 0, PAGE, u)).errnoOrNull());
            assertEquals(Errno.EINVAL, g.vm.setUserMemoryRegion(new MemoryRegion(1 << 16 | 1, 0, 0, PAGE, u)).errnoOrNull());
            assertEquals(Errno.EINVAL, g.vm.setUserMemoryRegion(new MemoryRegion(1, KvmApi.KVM_MEM_READONLY, 0, PAGE, u)).errnoOrNull());
            assertEquals(Errno.EINVAL, g.vm.setUserMemoryRegion(new MemoryRegion(1, 0, 0, PAGE + 8, u)).errnoOrNull());
            assertEquals(Errno.EINVAL, g.vm.setUserMemoryRegion(new MemoryRegion(1, 0, 8, PAGE, u)).errnoOrNull());
            assertEquals(Errno.EINVAL, g.vm.setUserMemoryRegion(new MemoryRegion(1, 0, 0, PAGE, u + 8)).errnoOrNull());
            assertEquals(Errno.EINVAL, g.vm.setUserMemoryRegion(new MemoryRegion(1, 0, 0, PAGE, BAD_ADDRESS)).errnoOrNull());
            assertEquals(Errno.EINVAL, g.vm.setUserMemoryRegion(new MemoryRegion(1, 0, 0, 8 * PAGE, u)).errnoOrNull(),
                    "user range longer than the mapping");
            assertEquals(Errno.EINVAL, g.vm.setUserMemoryRegion(new MemoryRegion(1, 0, (1L << 40) - PAGE, 2 * PAGE, u)).errnoOrNull());
            assertEquals(Errno.EINVAL, g.vm.setUserMemoryRegion(new MemoryRegion(1, 0, 1L << 62, 1L << 62, u)).errnoOrNull(),
                    "gpa + size overflowing 64 bits");
            assertEquals(Errno.EINVAL, g.vm.setUserMemoryRegion(new MemoryRegion(1, 0, -PAGE, PAGE, u)).errnoOrNull());
            assertEquals(Errno.EINVAL, g.vm.setUserMemoryRegion(new MemoryRegion(1, 0, 0, -PAGE, u)).errnoOrNull());
            assertEquals(Errno.EINVAL, g.vm.setUserMemoryRegion(new MemoryRegion(7, 0, 0, 0, u)).errnoOrNull(), "deleting an absent slot");
            assertEquals(Errno.EEXIST, g.vm.setUserMemoryRegion(new MemoryRegion(1, log, GPA + 4 * PAGE, PAGE, u)).errnoOrNull());
            assertEquals(Errno.EEXIST, g.vm.setUserMemoryRegion(new MemoryRegion(1, 0, GPA - PAGE, 2 * PAGE, u)).errnoOrNull());
            assertEquals(Errno.EINVAL, g.vm.setUserMemoryRegion(new MemoryRegion(1, 0, GPA + 8, PAGE, u)).errnoOrNull(),
                    "-EINVAL is checked before -EEXIST");
            assertEquals(0, ok(g.vm.setUserMemoryRegion(new MemoryRegion(1, 0, GPA - PAGE, PAGE, u))), "adjacent is fine");
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void anExistingSlotMayMoveButNeverChangeSizeOrUserAddressAndAnIdenticalCallIsANoOp(Arch arch) {
        try (Guest g = new Guest(arch)) {
            MemoryRegion r = g.region;
            assertEquals(Errno.EINVAL, g.vm.setUserMemoryRegion(
                    new MemoryRegion(SLOT, r.flags(), r.guestPhysAddr(), r.memorySize() - PAGE, r.userspaceAddr())).errnoOrNull());
            assertEquals(Errno.EINVAL, g.vm.setUserMemoryRegion(
                    new MemoryRegion(SLOT, r.flags(), r.guestPhysAddr(), r.memorySize(), g.scratch.address())).errnoOrNull());
            g.write(2);
            UserDirtyLog before = g.addresses();
            assertEquals(0, ok(g.vm.setUserMemoryRegion(r)));
            assertEquals(before, g.addresses());
            assertEquals(of(2), g.getDirtyLog(), "an identical call must not touch the log");
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void loggingSwitchedOnGivesAFreshBitmapAndWritesRightAfterAreReported(Arch arch) {
        try (Guest g = new Guest(arch)) {
            loggingSwitchedOnGivesAFreshBitmapAndWritesRightAfterAreReported(g);
        }
    }

    static void loggingSwitchedOnGivesAFreshBitmapAndWritesRightAfterAreReported(Guest g) {
        ok(g.set(g.region.withFlags(0)));
        g.write(11, 12);
        ok(g.set(g.region.withFlags(KvmApi.KVM_MEM_LOG_DIRTY_PAGES)));
        UserDirtyLog log = g.addresses();
        assertTrue(g.bitmapAt(log.dirtyBitmap()).isEmpty());
        assertTrue(g.bitmapAt(log.dirtyBitmapOld()).isEmpty());
        g.write(11);
        assertEquals(of(11), g.getDirtyLog(), "a page mapped writable before logging must fault again (b64d740e)");
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void loggingSwitchedOffFreesTheBitmapsAndTheLogIoctlsAnswerEnoent(Arch arch) {
        try (Guest g = new Guest(arch)) {
            UserDirtyLog log = g.addresses();
            ok(g.set(g.region.withFlags(0)));
            assertEquals(Errno.ENOENT, g.vm.switchDirtyLog(SLOT).errnoOrNull());
            assertEquals(Errno.ENOENT, g.vm.getDirtyLog(SLOT, g.scratch.address()).errnoOrNull());
            new UserDirtyLog(SLOT, 0, 0, 0).writeTo(g.scratch.segment());
            assertEquals(Errno.ENOENT, g.vm.getUserDirtyLogAddr(g.scratch.address()).errnoOrNull());
            assertEquals(Errno.EFAULT, g.vm.accessUser(log.dirtyBitmap(), 8).errnoOrNull(), "a freed bitmap is no user memory");
            g.write(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void noStaleBitSurvivesALoggingOffOnCycle(Arch arch) {
        try (Guest g = new Guest(arch)) {
            noStaleBitSurvivesALoggingOffOnCycle(g);
        }
    }

    static void noStaleBitSurvivesALoggingOffOnCycle(Guest g) {
        g.write(21);
        ok(g.set(g.region.withFlags(0)));
        ok(g.set(g.region.withFlags(KvmApi.KVM_MEM_LOG_DIRTY_PAGES)));
        assertEquals(of(), g.getDirtyLog());
        assertEquals(1, ok(g.vm.switchDirtyLog(SLOT)));
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void movingALoggedSlotKeepsItsPendingBitsAndWritesAtTheNewAddressAreLogged(Arch arch) {
        try (Guest g = new Guest(arch)) {
            movingALoggedSlotKeepsItsPendingBitsAndWritesAtTheNewAddressAreLogged(g);
        }
    }

    static void movingALoggedSlotKeepsItsPendingBitsAndWritesAtTheNewAddressAreLogged(Guest g) {
        g.write(30);
        UserDirtyLog before = g.addresses();
        ok(g.set(g.region.movedTo(GPA * 2)));
        assertEquals(before, g.addresses());
        g.write(31);
        assertEquals(of(30, 31), g.getDirtyLog());
        assertEquals(Errno.EFAULT, g.vcpu.runWrites(List.of(new GuestWrite(GPA, 1))).errnoOrNull(),
                "the old range is no longer memory");
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void moveAndFlagChangeInOneCallDoBoth(Arch arch) {
        try (Guest g = new Guest(arch)) {
            g.write(1);
            ok(g.set(g.region.movedTo(GPA * 2).withFlags(0)));
            assertEquals(Errno.ENOENT, g.vm.switchDirtyLog(SLOT).errnoOrNull());
            Memslot slot = g.vm.memslots().get(SLOT);
            assertEquals((GPA * 2) >>> 12, slot.baseGfn());
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void deletingASlotLosesItsBitsAndRecreatingTheIdStartsFresh(Arch arch) {
        try (Guest g = new Guest(arch)) {
            g.write(40);
            MemoryRegion r = g.region;
            assertEquals(0, ok(g.vm.setUserMemoryRegion(r.deletion())));
            assertEquals(Errno.ENOENT, g.vm.switchDirtyLog(SLOT).errnoOrNull());
            assertEquals(Errno.EFAULT, g.vcpu.runWrites(List.of(new GuestWrite(GPA, 1))).errnoOrNull());
            ok(g.set(r));
            assertEquals(of(), g.getDirtyLog());
            g.write(41);
            assertEquals(of(41), g.getDirtyLog());
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void guestStoresLandInTheUserMemoryBehindTheSlot(Arch arch) {
        try (Guest g = new Guest(arch)) {
            g.write(17);
            assertEquals(1017, g.memory.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, 17 * PAGE + 8));
            ok(g.set(g.region.withFlags(0)));
            g.write(18);
            assertEquals(1018, g.memory.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, 18 * PAGE + 8));
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void vcpuAndMmapErrorsAreValues(Arch arch) {
        try (Guest g = new Guest(arch)) {
            assertEquals(Errno.EEXIST, g.vm.createVcpu(0).errnoOrNull());
            assertEquals(Errno.EINVAL, g.vm.createVcpu(-1).errnoOrNull());
            assertEquals(Errno.EINVAL, g.vm.createVcpu(64).errnoOrNull());
            assertEquals(Errno.EFAULT, g.vcpu.runWrites(List.of(new GuestWrite(0, 1))).errnoOrNull());
            assertEquals(Errno.EINVAL, g.vm.mmap(100).errnoOrNull());
            assertEquals(Errno.EFAULT, g.vm.accessUser(BAD_ADDRESS, 8).errnoOrNull());
        }
    }

    // ---- a failed call leaves the VM exactly as it was ----

    private record Observed(List<String> slots, List<BitSet> bitmaps, List<UserDirtyLog> addresses) {
    }

    private static Observed observe(Guest g) {
        List<String> slots = new ArrayList<>();
        List<BitSet> bitmaps = new ArrayList<>();
        List<UserDirtyLog> addresses = new ArrayList<>();
        for (Memslot s : g.vm.memslots().slots()) {
            slots.add(s.id() + ":" + s.baseGfn() + ":" + s.npages() + ":" + s.flags() + ":" + s.userspaceAddr());
            if (s.dirtyLogged()) {
                UserDirtyLog a = new UserDirtyLog(s.id(), 0, s.dirtyBitmap().address(), s.dirtyBitmapOld().address());
                addresses.add(a);
                bitmaps.add(Guest.bits(MemorySegment.ofAddress(a.dirtyBitmap()).reinterpret(s.dirtyBitmap().byteSize()), s.npages()));
                bitmaps.add(Guest.bits(MemorySegment.ofAddress(a.dirtyBitmapOld()).reinterpret(s.dirtyBitmap().byteSize()), s.npages()));
            }
        }
        return new Observed(slots, bitmaps, addresses);
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void everyFailedCallLeavesTheObservableStateUnchanged(Arch arch) {
        try (Guest g = new Guest(arch)) {
            UserMemory m = ok(g.vm.mmap(2 * PAGE));
            ok(g.set(new MemoryRegion(1, 0, 0, PAGE, m.address())));
            g.write(1, 2, 3);
            ok(g.vm.switchDirtyLog(SLOT));
            g.write(4, 600);
            MemoryRegion r = g.region;
            List<Function<Guest, IoctlResult<?>>> failing = List.of(
                    x -> x.vm.setUserMemoryRegion(new MemoryRegion(32, 0, 0, PAGE, m.address())),
                    x -> x.vm.setUserMemoryRegion(r.withFlags(KvmApi.KVM_MEM_READONLY)),
                    x -> x.vm.setUserMemoryRegion(new MemoryRegion(SLOT, r.flags(), r.guestPhysAddr(), PAGE, r.userspaceAddr())),
                    x -> x.vm.setUserMemoryRegion(new MemoryRegion(SLOT, r.flags(), r.guestPhysAddr(), r.memorySize(), m.address())),
                    x -> x.vm.setUserMemoryRegion(r.movedTo(0)),
                    x -> x.vm.setUserMemoryRegion(r.movedTo(GPA + 8)),
                    x -> x.vm.setUserMemoryRegion(new MemoryRegion(2, 1, GPA, PAGE, m.address())),
                    x -> x.vm.setUserMemoryRegion(new MemoryRegion(9, 0, 0, 0, 0)),
                    x -> x.vm.getDirtyLog(SLOT, BAD_ADDRESS),
                    x -> x.vm.getDirtyLog(1, x.scratch.address()),
                    x -> x.vm.getDirtyLog(40, x.scratch.address()),
                    x -> x.vm.switchDirtyLog(1),
                    x -> x.vm.switchDirtyLog(40),
                    x -> x.vm.getUserDirtyLogAddr(BAD_ADDRESS),
                    x -> x.vm.createVcpu(0),
                    x -> x.vm.munmap(new UserMemory(BAD_ADDRESS, MemorySegment.NULL)));
            for (int i = 0; i < failing.size(); i++) {
                Observed before = observe(g);
                IoctlResult<?> result = failing.get(i).apply(g);
                assertTrue(!result.isOk(), "call " + i + " should fail");
                assertEquals(before, observe(g), "call " + i + " (" + result.errnoOrNull() + ") changed the VM");
            }
            assertEquals(of(4, 600), g.getDirtyLog());
        }
    }

    // ---- registration ----

    @Test
    void serviceLoaderFindsTheThreeReferenceBackendsByTheirContractNames() {
        Set<String> names = new TreeSet<>();
        for (DirtyLogBackend backend : ServiceLoader.load(DirtyLogBackend.class)) {
            names.add(backend.name());
            assertTrue(backend.availability().available());
            assertEquals(1, backend.capabilities().userDirtyLogGeneration());
            assertEquals(1L << 40, backend.capabilities().guestPhysLimit());
        }
        assertTrue(names.containsAll(Set.of("reference-x86", "reference-ppc", "reference-ia64")), names.toString());
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void aBackendWithDefectsCarriesTheirLabelsInItsName(Arch arch) {
        assertEquals(arch.backendName, arch.backend().name());
        assertEquals(arch.backendName + "+50e92b3c+6dbf79e7",
                arch.backend(EnumSet.of(Defect.FLUSH_AFTER_UNLOCK, Defect.NON_ATOMIC_BIT_SET)).name());
    }
}
