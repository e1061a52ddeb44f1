package org.dirtylog.arch.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.dirtylog.defects.Arch;
import org.dirtylog.defects.Defect;
import org.dirtylog.kvm.ReferenceBackend;
import org.dirtylog.kvm.Vcpu;
import org.dirtylog.kvm.Vm;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.RandomWriter;
import org.dirtylog.spi.RandomWrites;
import org.dirtylog.spi.UserMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * No vCPU uses a memslots array or a bitmap after it was freed while four vCPUs write, the host
 * harvests back to back with both ioctls and logging on a second slot goes off and on (its
 * bitmaps freed each time): the use-after-free count inside the reference, which the
 * conformance suite cannot see through the SPI. TLA+: NoUseAfterFree.
 */
class UseAfterFreeTests {

    private static final int VCPUS = 4;
    private static final long NPAGES = (1 << 10) + 3;
    private static final long OTHER_NPAGES = 64;
    private static final long GPA = 1L << 30;
    private static final long MIN_WRITES = 200_000;
    private static final long MIN_HARVESTS = 400;
    /** A count far past what a run needs; reached only if the vCPUs stop making progress. */
    private static final long MAX_HARVESTS = 2_000_000;

    /** What one run saw. */
    private record Run(long writes, long harvests, long useAfterFree) {
    }

    /**
     * Runs the workload on a fresh VM of {@code backend} until at least {@link #MIN_WRITES} writes
     * and {@link #MIN_HARVESTS} harvests were made, or, with {@code untilUsed}, until the first
     * use after free; returns what it saw.
     */
    private static Run churn(ReferenceBackend backend, boolean untilUsed) {
        try (Vm vm = backend.createReferenceVm()) {
            UserMemory memory = vm.mmap((NPAGES + OTHER_NPAGES) * KvmApi.PAGE_SIZE).value();
            UserMemory buffer = vm.mmap(KvmApi.PAGE_SIZE).value();
            int log = KvmApi.KVM_MEM_LOG_DIRTY_PAGES;
            vm.setUserMemoryRegion(new MemoryRegion(0, log, GPA, NPAGES * KvmApi.PAGE_SIZE, memory.address())).value();
            MemoryRegion other = new MemoryRegion(1, log, GPA + NPAGES * KvmApi.PAGE_SIZE, OTHER_NPAGES * KvmApi.PAGE_SIZE,
                    memory.address() + NPAGES * KvmApi.PAGE_SIZE);
            vm.setUserMemoryRegion(other).value();
            List<RandomWriter> writers = new ArrayList<>();
            for (int v = 0; v < VCPUS; v++) {
                Vcpu vcpu = (Vcpu) vm.createVcpu(v).value();
                writers.add(vcpu.startRandomWrites(new RandomWrites(GPA, NPAGES + OTHER_NPAGES, 1, v + 1)).value());
            }
            long harvests = 0;
            while (harvests < MAX_HARVESTS && (untilUsed ? vm.useAfterFreeCount() == 0
                    : harvests < MIN_HARVESTS || writes(writers) < MIN_WRITES)) {
                if (harvests % 2 == 0) {
                    vm.switchDirtyLog(0).value();
                } else {
                    vm.getDirtyLog(0, buffer.address()).value();
                }
                if (harvests % 8 == 0) {
                    vm.setUserMemoryRegion(other.withFlags(harvests % 16 == 0 ? 0 : log)).value();
                }
                harvests++;
            }
            long writes = 0;
            for (RandomWriter w : writers) {
                writes += w.stop().value();
            }
            return new Run(writes, harvests, vm.useAfterFreeCount());
        }
    }

    private static long writes(List<RandomWriter> writers) {
        long n = 0;
        for (RandomWriter w : writers) {
            n += w.writesSoFar();
        }
        return n;
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void noVcpuUsesAFreedMemslotsArrayOrBitmapWhileTheHostHarvestsAndTogglesLogging(Arch arch) {
        Run run = churn(arch.backend(), false);
        assertTrue(run.harvests() < MAX_HARVESTS, "the vCPUs stopped making progress: " + run);
        assertEquals(0, run.useAfterFree(), "uses after free: " + run);
    }

    /** The count can fail: x86 frees the old memslots array at once when the exchange skips its grace period. */
    @Test
    void theCountSeesTheFreedArrayOfAnX86ExchangeWithoutItsGracePeriod() {
        Run run = churn(Defect.NO_GRACE_PERIOD.referenceBackend(Arch.X86), true);
        assertTrue(run.useAfterFree() > 0, "no use after free counted: " + run);
    }
}
