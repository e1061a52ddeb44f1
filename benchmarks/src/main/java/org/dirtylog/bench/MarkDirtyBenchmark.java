package org.dirtylog.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.dirtylog.arch.x86.X86ReferenceBackend;
import org.dirtylog.kvm.DirtyBitmap;
import org.dirtylog.kvm.Vcpu;
import org.dirtylog.kvm.Vm;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserMemory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Throughput of {@code mark_page_dirty} on one vCPU (SRCU read section, gfn to memslot lookup,
 * atomic set in whichever bitmap is active) while another thread harvests the slot with
 * {@code KVM_SWITCH_DIRTY_LOG} about every millisecond, against a bare atomic bit set on a
 * bitmap of the same size. Target: the vCPU path at least half the bare set's throughput.
 * Read the {@code markWithHarvester:vcpuMarkPageDirty} row; the harvester row counts harvests.
 *
 * <p>{@code pmlWithHarvester} is the same vCPU emptying a 512-entry page-modification log per
 * exit ({@code kvm_flush_pml_buffer}): one SRCU read section for 512 marks. Its score is in
 * flushes; multiply by 512 for pages. A per-page exit pays at least one locked instruction for
 * the read section on top of the one of the bit set, so only the batched form can reach half
 * the bare set's rate.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Group)
public class MarkDirtyBenchmark {

    private static final int SLOT = 0;
    private static final long NPAGES = 32768;
    /** Entries in Intel's page-modification log: one PML-full exit flushes this many. */
    public static final int PML_ENTRIES = 512;

    private Vm vm;
    private Vcpu vcpu;
    private DirtyBitmap bare;

    @Setup(Level.Trial)
    public void createVm() {
        vm = (Vm) new X86ReferenceBackend().createVm().value();
        long bytes = NPAGES * KvmApi.PAGE_SIZE;
        UserMemory guest = vm.mmap(bytes).value();
        vm.setUserMemoryRegion(new MemoryRegion(SLOT, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, 0, bytes, guest.address()))
                .value();
        vcpu = (Vcpu) vm.createVcpu(0).value();
        bare = DirtyBitmap.allocate(NPAGES);
    }

    @TearDown(Level.Trial)
    public void destroyVm() {
        vm.close();
        bare.close();
    }

    /** The next page each thread dirties: a sequential walk over the slot. */
    @State(Scope.Thread)
    public static class Cursor {
        private long page;
        private final long[] pml = new long[PML_ENTRIES];

        long next() {
            long p = page;
            page = (p + 1) & (NPAGES - 1);
            return p;
        }

        long[] fillPml() {
            for (int i = 0; i < PML_ENTRIES; i++) {
                pml[i] = next();
            }
            return pml;
        }
    }

    @Benchmark
    @Group("markWithHarvester")
    @GroupThreads(1)
    public IoctlResult<Integer> vcpuMarkPageDirty(Cursor cursor) {
        return vcpu.markPageDirty(cursor.next());
    }

    @Benchmark
    @Group("markWithHarvester")
    @GroupThreads(1)
    public int harvester() {
        int r = vm.switchDirtyLog(SLOT).value();
        LockSupport.parkNanos(1_000_000);
        return r;
    }

    @Benchmark
    @Group("pmlWithHarvester")
    @GroupThreads(1)
    public IoctlResult<Integer> vcpuFlushPml(Cursor cursor) {
        return vcpu.markPagesDirty(cursor.fillPml(), PML_ENTRIES);
    }

    @Benchmark
    @Group("pmlWithHarvester")
    @GroupThreads(1)
    public int pmlHarvester() {
        return harvester();
    }

    @Benchmark
    @Group("bareAtomicSet")
    @GroupThreads(1)
    public boolean bareAtomicBitSet(Cursor cursor) {
        return bare.set(cursor.next());
    }
}
