package org.dirtylog.bench;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.dirtylog.arch.x86.X86ReferenceBackend;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserMemory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Harvest latency on the reference x86 backend for slots from 4 MiB to 64 GiB of guest memory:
 * {@code KVM_SWITCH_DIRTY_LOG} on a slot with one dirty page, on a clean slot, and
 * {@code KVM_GET_DIRTY_LOG} with one dirty page. Targets: switch flat in the slot size (the
 * 64 GiB figure within 2x of the 4 MiB one), GET growing with the bitmap, a clean switch under
 * 1 us. Guest memory is mapped lazily, so a 64 GiB slot costs only the page the vCPU touches.
 * The dirtying write happens in a per-invocation setup, outside the measured call.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SwitchVsGetDirtyLogBenchmark {

    private static final int SLOT = 0;

    /** A VM with one logged slot of {@code slotMiB} and one vCPU; the slot starts clean. */
    @State(Scope.Thread)
    public static class Slot {
        @Param({"4", "64", "1024", "16384", "65536"})
        public long slotMiB;

        BackendVm vm;
        BackendVcpu vcpu;
        UserMemory getBuffer;

        @Setup(Level.Trial)
        public void createVm() {
            vm = new X86ReferenceBackend().createVm().value();
            long bytes = slotMiB << 20;
            UserMemory guest = vm.mmap(bytes).value();
            int rc = vm.setUserMemoryRegion(new MemoryRegion(SLOT, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, 0, bytes,
                    guest.address())).value();
            if (rc != 0) {
                throw new IllegalStateException("KVM_SET_USER_MEMORY_REGION returned " + rc);
            }
            long bitmapBytes = KvmApi.dirtyBitmapBytes(KvmApi.pages(bytes));
            getBuffer = vm.mmap(Math.max(KvmApi.PAGE_SIZE, roundUpToPage(bitmapBytes))).value();
            vcpu = vm.createVcpu(0).value();
        }

        @TearDown(Level.Trial)
        public void destroyVm() {
            vm.close();
        }
    }

    /**
     * The same slot, dirtied by one guest write (a write-protect fault after every harvest) in a
     * per-invocation setup, outside the measured call. The trial checks that every measured
     * switch really switched, so a setup that failed to dirty the slot cannot pass as fast.
     */
    @State(Scope.Thread)
    public static class DirtySlot extends Slot {
        private long value;
        long cleanSwitches;

        @Setup(Level.Invocation)
        public void dirty() {
            vcpu.runWrites(List.of(new GuestWrite(0, ++value))).value();
        }

        @TearDown(Level.Trial)
        public void checkEverySwitchSwitched() {
            if (cleanSwitches != 0) {
                throw new IllegalStateException(cleanSwitches + " measured switches found the slot clean");
            }
        }
    }

    @Benchmark
    public int switchDirtySlot(DirtySlot s) {
        int r = s.vm.switchDirtyLog(SLOT).value();
        if (r != 0) {
            s.cleanSwitches++;
        }
        return r;
    }

    @Benchmark
    public int switchCleanSlot(Slot s) {
        return s.vm.switchDirtyLog(SLOT).value();
    }

    @Benchmark
    public int getDirtyLog(DirtySlot s) {
        return s.vm.getDirtyLog(SLOT, s.getBuffer.address()).value();
    }

    private static long roundUpToPage(long bytes) {
        return (bytes + KvmApi.PAGE_SIZE - 1) & -KvmApi.PAGE_SIZE;
    }
}
