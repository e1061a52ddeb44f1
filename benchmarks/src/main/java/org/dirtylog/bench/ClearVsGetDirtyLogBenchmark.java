package org.dirtylog.bench;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.dirtylog.arch.x86.X86ReferenceBackend;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.ClearDirtyLog;
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
 * Manual protect on the reference x86 backend: {@code KVM_CLEAR_DIRTY_LOG} of one 64-page word
 * whose 64 pages are all dirty (each bit taken and its page write-protected, then one flush),
 * against {@code KVM_GET_DIRTY_LOG} on the same slot, in manual mode (a copy of the whole bitmap)
 * and without it (the harvest: exchange, grace period, slot write-protect, flush, copy). The 64
 * dirtying guest writes (one write-protect fault each) happen in a per-invocation setup, outside
 * the measured call; the trial fails if a setup found the word not fully dirty (so a CLEAR that
 * re-armed nothing cannot pass as fast).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ClearVsGetDirtyLogBenchmark {

    private static final int SLOT = 0;

    /** A VM with one logged slot of {@code slotMiB}, manual protect as {@link #manual} says, one vCPU. */
    @State(Scope.Thread)
    public abstract static class Slot {
        @Param({"64", "1024"})
        public long slotMiB;

        BackendVm vm;
        BackendVcpu vcpu;
        UserMemory buffer;
        List<GuestWrite> firstWord;
        private long value;

        abstract boolean manual();

        @Setup(Level.Trial)
        public void createVm() {
            vm = new X86ReferenceBackend().createVm().value();
            if (manual()) {
                vm.enableManualDirtyLogProtect(0, KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE).value();
            }
            long bytes = slotMiB << 20;
            UserMemory guest = vm.mmap(bytes).value();
            vm.setUserMemoryRegion(new MemoryRegion(SLOT, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, 0, bytes, guest.address())).value();
            long bitmapBytes = KvmApi.dirtyBitmapBytes(KvmApi.pages(bytes));
            buffer = vm.mmap((bitmapBytes + KvmApi.PAGE_SIZE - 1) & -KvmApi.PAGE_SIZE).value();
            vcpu = vm.createVcpu(0).value();
            prepare();
        }

        /** Finishes the trial's setup once the VM exists (JMH runs a subclass's own setups first). */
        void prepare() {
        }

        /** Writes the 64 pages of the slot's first bitmap word (each faults: CLEAR or the harvest re-armed it). */
        void dirtyFirstWord() {
            List<GuestWrite> writes = new ArrayList<>(64);
            value++;
            for (long p = 0; p < 64; p++) {
                writes.add(new GuestWrite(p * KvmApi.PAGE_SIZE, value));
            }
            vcpu.runWrites(writes).value();
        }

        @TearDown(Level.Trial)
        public void destroyVm() {
            vm.close();
        }
    }

    /**
     * Manual protect on; the first word dirty before each call (checked with a GET in the setup:
     * its 64 writes set all 64 bits only if the last CLEAR re-armed every page); the CLEAR's mask,
     * in a page of its own, names the word.
     */
    public static class ManualSlot extends Slot {
        ClearDirtyLog firstWordClear;
        long wordsNotDirty;

        @Override
        boolean manual() {
            return true;
        }

        @Override
        void prepare() {
            UserMemory mask = vm.mmap(KvmApi.PAGE_SIZE).value();
            mask.segment().set(ValueLayout.JAVA_LONG_UNALIGNED, 0, -1L);
            firstWordClear = new ClearDirtyLog(SLOT, 64, 0, mask.address());
        }

        @Setup(Level.Invocation)
        public void dirty() {
            dirtyFirstWord();
            vm.getDirtyLog(SLOT, buffer.address()).value();
            if (buffer.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, 0) != -1L) {
                wordsNotDirty++;
            }
        }

        @TearDown(Level.Trial)
        public void checkEveryWordWasDirty() {
            if (wordsNotDirty != 0) {
                throw new IllegalStateException(wordsNotDirty + " setups found the first word not fully dirty");
            }
        }
    }

    /** Manual protect off; the first word dirty before each call. */
    public static class LegacySlot extends Slot {
        @Override
        boolean manual() {
            return false;
        }

        @Setup(Level.Invocation)
        public void dirty() {
            dirtyFirstWord();
        }
    }

    /** {@code KVM_CLEAR_DIRTY_LOG} of one word, 64 dirty pages: take, re-arm 64 pages, one flush. */
    @Benchmark
    public int clearOneDirtyWord(ManualSlot s) {
        return s.vm.clearDirtyLog(s.firstWordClear).value();
    }

    /** {@code KVM_GET_DIRTY_LOG} with manual protect on: sync and copy the whole bitmap. */
    @Benchmark
    public int getManual(ManualSlot s) {
        return s.vm.getDirtyLog(SLOT, s.buffer.address()).value();
    }

    /** {@code KVM_GET_DIRTY_LOG} without manual protect: the whole harvest, then the copy. */
    @Benchmark
    public int getLegacy(LegacySlot s) {
        return s.vm.getDirtyLog(SLOT, s.buffer.address()).value();
    }
}
