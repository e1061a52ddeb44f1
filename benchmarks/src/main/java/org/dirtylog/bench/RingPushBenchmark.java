package org.dirtylog.bench;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.dirtylog.arch.x86.X86ReferenceBackend;
import org.dirtylog.kvm.DirtyRing;
import org.dirtylog.kvm.Vcpu;
import org.dirtylog.kvm.Vm;
import org.dirtylog.spi.DirtyGfn;
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
import org.openjdk.jmh.infra.Control;

/**
 * Throughput of the reference x86 backend's {@code mark_page_dirty} exit path (SRCU read
 * section, gfn to memslot lookup, then the mark) with the dirty ring against the same path with
 * the bitmap, one vCPU each, each with its harvester on a second thread.
 *
 * <p>{@code ring}: the mark pushes {@code {slot, offset}} into the vCPU's ring of 4096 entries
 * (64 KiB, api.rst's suggestion); a collector thread harvests it as user space does (load-acquire
 * DIRTY, store-release RESET, in order) and calls {@code KVM_RESET_DIRTY_RINGS}, over and over.
 * When the ring is soft-full the vCPU waits for the reset before it marks (it would be out of the
 * guest with {@code KVM_EXIT_DIRTY_RING_FULL}), so the score is the sustained rate with the
 * collector keeping up, waits included. {@code bitmap}: the mark sets a bit of the active bitmap;
 * the harvester switches the slot about every millisecond, as in {@link MarkDirtyBenchmark}.
 * Read the {@code ring:vcpuRingPush} and {@code bitmap:vcpuBitmapMark} rows (marks per µs).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Group)
public class RingPushBenchmark {

    private static final int SLOT = 0;
    private static final long NPAGES = 32768;
    private static final long RING_BYTES = 64 << 10;

    private Vm ringVm;
    private Vcpu ringVcpu;
    private DirtyRing ring;
    private MemorySegment mapped;
    private long fetch;
    private Vm bitmapVm;
    private Vcpu bitmapVcpu;

    @Setup(Level.Trial)
    public void createVms() {
        ringVm = (Vm) new X86ReferenceBackend().createVm().value();
        ringVm.enableDirtyLogRing(KvmApi.KVM_CAP_DIRTY_LOG_RING_ACQ_REL, 0, RING_BYTES).value();
        slot(ringVm);
        ringVcpu = (Vcpu) ringVm.createVcpu(0).value();
        ring = ringVcpu.dirtyRing();
        mapped = ringVcpu.mmapDirtyRing(RING_BYTES, KvmApi.PROT_READ | KvmApi.PROT_WRITE, KvmApi.MAP_SHARED).value()
                .segment();
        bitmapVm = (Vm) new X86ReferenceBackend().createVm().value();
        slot(bitmapVm);
        bitmapVcpu = (Vcpu) bitmapVm.createVcpu(0).value();
    }

    private static void slot(Vm vm) {
        long bytes = NPAGES * KvmApi.PAGE_SIZE;
        UserMemory guest = vm.mmap(bytes).value();
        vm.setUserMemoryRegion(new MemoryRegion(SLOT, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, 0, bytes, guest.address())).value();
    }

    @TearDown(Level.Trial)
    public void destroyVms() {
        if (ring.overflows() != 0) {
            throw new IllegalStateException(ring.overflows() + " pushes overwrote an unreset entry");
        }
        ringVm.close();
        bitmapVm.close();
    }

    /** The next page each thread dirties: a sequential walk over the slot. */
    @State(Scope.Thread)
    public static class Cursor {
        private long page;

        long next() {
            long p = page;
            page = (p + 1) & (NPAGES - 1);
            return p;
        }
    }

    @Benchmark
    @Group("ring")
    @GroupThreads(1)
    public IoctlResult<Integer> vcpuRingPush(Cursor cursor, Control control) {
        while (ring.softFull()) {
            if (control.stopMeasurement) {
                // The collector may already have run its last invocation of the iteration.
                return null;
            }
            Thread.onSpinWait();
        }
        return ringVcpu.markPageDirty(cursor.next());
    }

    @Benchmark
    @Group("ring")
    @GroupThreads(1)
    public int collector() {
        long entries = RING_BYTES / DirtyGfn.SIZE;
        long taken = 0;
        while (true) {
            long position = DirtyGfn.position(fetch, entries);
            if (DirtyGfn.flagsAcquire(mapped, position) != DirtyGfn.KVM_DIRTY_GFN_F_DIRTY) {
                break;
            }
            DirtyGfn.setFlagsRelease(mapped, position, DirtyGfn.KVM_DIRTY_GFN_F_RESET);
            fetch++;
            taken++;
        }
        int reset = ringVm.resetDirtyRings().value();
        if (reset != taken) {
            throw new IllegalStateException("KVM_RESET_DIRTY_RINGS returned " + reset + " for " + taken + " marked");
        }
        return reset;
    }

    @Benchmark
    @Group("bitmap")
    @GroupThreads(1)
    public IoctlResult<Integer> vcpuBitmapMark(Cursor cursor) {
        return bitmapVcpu.markPageDirty(cursor.next());
    }

    @Benchmark
    @Group("bitmap")
    @GroupThreads(1)
    public int harvester() {
        int r = bitmapVm.switchDirtyLog(SLOT).value();
        LockSupport.parkNanos(1_000_000);
        return r;
    }
}
