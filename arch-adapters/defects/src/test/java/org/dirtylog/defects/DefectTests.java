package org.dirtylog.defects;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserMemory;
import org.junit.jupiter.api.Test;

/** The fixtures' own contract: where each applies, and the fixtures built around the VM. */
class DefectTests {

    /** The bugs only x86 can have: the RFC's publish order, and every manual-protect bug (only x86 offers it). */
    private static final Set<Defect> X86_ONLY = EnumSet.of(Defect.WRITE_PROTECT_BEFORE_SWAP, Defect.CLEAR_REARMS_FIRST,
            Defect.CLEAR_SKIPS_PARTIAL_WORD, Defect.CLEAR_READS_WORD_TOO_MANY, Defect.GET_CLEARS_IN_MANUAL_MODE,
            Defect.INITIALLY_SET_IGNORED, Defect.CLEAR_ERRNO_ORDER, Defect.RESET_IGNORES_HARVEST_ORDER,
            Defect.NO_SOFT_FULL_EXIT, Defect.FLAGS_BEFORE_FIELDS, Defect.RESET_REARMS_UNHARVESTED, Defect.GET_WORKS_WITH_RING,
            Defect.CLEAR_WORKS_WITH_RING);

    @Test
    void theRfcsPublishOrderTheManualProtectAndTheRingBugsExistOnlyOnX86AndEveryOtherBugOnEveryArchitecture() {
        for (Defect d : Defect.values()) {
            for (Arch arch : Arch.values()) {
                assertEquals(!X86_ONLY.contains(d) || arch == Arch.X86, d.appliesTo(arch), d + " on " + arch);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Defect.NO_SOFT_FULL_EXIT.backend(Arch.PPC));
        assertThrows(IllegalArgumentException.class, () -> Defect.GET_WORKS_WITH_RING.referenceBackend(Arch.X86));
        assertThrows(IllegalArgumentException.class, () -> Defect.WRITE_PROTECT_BEFORE_SWAP.backend(Arch.PPC));
        assertThrows(IllegalArgumentException.class, () -> Defect.CLEAR_REARMS_FIRST.backend(Arch.IA64));
        assertThrows(IllegalArgumentException.class, () -> Defect.CLEAN_GET_LEAVES_BUFFER.referenceBackend(Arch.X86));
        assertThrows(IllegalArgumentException.class, () -> Defect.CLEAR_ERRNO_ORDER.referenceBackend(Arch.X86));
    }

    @Test
    void theForwardingVmForwardsEveryMethodOfTheSpi() throws NoSuchMethodException {
        for (Method m : BackendVm.class.getMethods()) {
            if (!Modifier.isStatic(m.getModifiers())) {
                Method forwarded = ForwardingBackendVm.class.getMethod(m.getName(), m.getParameterTypes());
                assertEquals(ForwardingBackendVm.class, forwarded.getDeclaringClass(), m.getName() + " is not forwarded");
            }
        }
    }

    @Test
    void aBrokenManualProtectBackendDeclaresWhatTheCorrectOneDoes() {
        for (Defect d : X86_ONLY) {
            assertEquals(Arch.X86.backend().capabilities(), d.backend(Arch.X86).capabilities(), d.toString());
        }
        assertTrue(Arch.X86.backend().capabilities().features().contains(Capability.MANUAL_DIRTY_LOG_PROTECT));
        assertFalse(Arch.PPC.backend().capabilities().features().contains(Capability.MANUAL_DIRTY_LOG_PROTECT));
    }

    @Test
    void theCleanGetFixtureLeavesTheBufferOnACleanSlotAndReportsADirtyOne() {
        try (BackendVm vm = Defect.CLEAN_GET_LEAVES_BUFFER.backend(Arch.X86).createVm().value()) {
            long npages = 67;
            UserMemory memory = vm.mmap(npages * KvmApi.PAGE_SIZE).value();
            UserMemory buffer = vm.mmap(KvmApi.PAGE_SIZE).value();
            vm.setUserMemoryRegion(new MemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, 0, npages * KvmApi.PAGE_SIZE,
                    memory.address())).value();
            MemorySegment bits = buffer.segment().asSlice(0, KvmApi.dirtyBitmapBytes(npages));
            bits.fill((byte) 0x5a);
            assertEquals(0, vm.getDirtyLog(0, buffer.address()).value());
            assertTrue(bits.elements(ValueLayout.JAVA_BYTE).allMatch(b -> b.get(ValueLayout.JAVA_BYTE, 0) == 0x5a),
                    "a clean GET left the caller's bytes");
            vm.createVcpu(0).value().runWrites(List.of(new GuestWrite(3 * KvmApi.PAGE_SIZE, 1))).value();
            assertEquals(0, vm.getDirtyLog(0, buffer.address()).value());
            assertEquals(1L << 3, bits.get(ValueLayout.JAVA_LONG, 0));
            assertEquals(0L, bits.get(ValueLayout.JAVA_LONG, 8));
            assertFalse(vm.getDirtyLog(0, 0x1000).isOk(), "errors pass through");
        }
    }
}
