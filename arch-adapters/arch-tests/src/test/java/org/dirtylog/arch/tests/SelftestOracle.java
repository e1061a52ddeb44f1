package org.dirtylog.arch.tests;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.dirtylog.kvm.ReferenceBackend;
import org.dirtylog.kvm.Vcpu;
import org.dirtylog.kvm.Vm;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.RandomWriter;
import org.dirtylog.spi.RandomWrites;
import org.dirtylog.spi.UserDirtyLog;
import org.dirtylog.spi.UserMemory;

/**
 * The §4 oracle as a migration: vCPUs store the current iteration number into random pages
 * while the host harvests about every millisecond and copies every reported page to a
 * destination, bumping the iteration after each harvest; then the vCPUs stop, a final harvest
 * copies the rest, and every page of the destination must equal the source. A write that no
 * harvest reported after it completed leaves its page stale in the destination.
 */
final class SelftestOracle {

    enum Harvest { SWITCH, GET }

    /** What one run observed. */
    record Report(long writes, long harvests, long lostPages, long useAfterFree, long bitsPastNpages, long millis) {
        boolean clean() {
            return lostPages == 0 && useAfterFree == 0 && bitsPastNpages == 0;
        }
    }

    static final long NPAGES = (1 << 12) + 3;
    private static final int SLOT = 0;
    private static final long GPA = 1L << 32;
    private static final ValueLayout.OfLong GUEST_LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private SelftestOracle() {
    }

    /**
     * Runs vCPUs until {@code minWrites} writes and {@code minHarvests} harvests were made or {@code maxMillis} passed, harvesting
     * with {@code mode}; with {@code stopAtFirstLoss} it ends early once a round found a loss.
     */
    static Report run(ReferenceBackend backend, Harvest mode, int vcpus, long minWrites, long minHarvests, long maxMillis,
                      boolean stopAtFirstLoss) {
        try (Vm vm = backend.createReferenceVm()) {
            long bytes = KvmApi.dirtyBitmapBytes(NPAGES);
            UserMemory memory = vm.mmap(NPAGES * KvmApi.PAGE_SIZE).value();
            UserMemory buffer = vm.mmap(KvmApi.PAGE_SIZE + ((bytes + 4095) & ~4095L)).value();
            vm.setUserMemoryRegion(new MemoryRegion(SLOT, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, GPA,
                    NPAGES * KvmApi.PAGE_SIZE, memory.address())).value();
            new UserDirtyLog(SLOT, 0, 0, 0).writeTo(buffer.segment());
            vm.getUserDirtyLogAddr(buffer.address()).value();
            UserDirtyLog addresses = UserDirtyLog.readFrom(buffer.segment());
            long[] active = {addresses.dirtyBitmap(), addresses.dirtyBitmapOld()};
            MemorySegment getBuffer = buffer.segment().asSlice(KvmApi.PAGE_SIZE, bytes);

            long[] destination = new long[(int) NPAGES];
            AtomicLong iteration = new AtomicLong(1);
            List<Vcpu> cpus = new ArrayList<>();
            long harvests = 0;
            long bitsPast = 0;
            long writes = 0;
            long lost = 0;
            long started = System.nanoTime();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
            for (int v = 0; v < vcpus; v++) {
                cpus.add((Vcpu) vm.createVcpu(v).value());
            }
            while ((writes < minWrites || harvests < minHarvests) && System.nanoTime() < deadline) {
                List<RandomWriter> writers = new ArrayList<>();
                for (Vcpu cpu : cpus) {
                    writers.add(cpu.startRandomWrites(
                            new RandomWrites(GPA, NPAGES, 0, iteration.get() * 31 + cpu.id()), iteration::get).value());
                }
                long roundEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(40);
                while (System.nanoTime() < roundEnd) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                    bitsPast += harvest(vm, mode, active, getBuffer, memory.segment(), destination);
                    iteration.incrementAndGet();
                    harvests++;
                }
                for (RandomWriter writer : writers) {
                    IoctlResult<Long> stopped = writer.stop();
                    writes += stopped.value();
                }
                bitsPast += harvest(vm, mode, active, getBuffer, memory.segment(), destination);
                iteration.incrementAndGet();
                harvests++;
                for (int p = 0; p < NPAGES; p++) {
                    long source = memory.segment().get(GUEST_LONG, p * KvmApi.PAGE_SIZE);
                    if (source != destination[p]) {
                        lost++;
                        destination[p] = source;
                    }
                }
                if (stopAtFirstLoss && (lost > 0 || vm.useAfterFreeCount() > 0)) {
                    break;
                }
            }
            return new Report(writes, harvests, lost, vm.useAfterFreeCount(), bitsPast,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        }
    }

    /** Harvests once, copies every reported page to {@code destination}; returns the bits set past npages. */
    private static long harvest(Vm vm, Harvest mode, long[] active, MemorySegment getBuffer,
                                MemorySegment guest, long[] destination) {
        long bytes = KvmApi.dirtyBitmapBytes(NPAGES);
        MemorySegment bitmap;
        if (mode == Harvest.SWITCH) {
            int r = vm.switchDirtyLog(SLOT).value();
            if (r == 1) {
                return 0;
            }
            long cold = active[0];
            active[0] = active[1];
            active[1] = cold;
            // Native memory: the cold bitmap read through the address KVM_GET_USER_DIRTY_LOG_ADDR gave.
            bitmap = MemorySegment.ofAddress(cold).reinterpret(bytes);
        } else {
            vm.getDirtyLog(SLOT, getBuffer.address()).value();
            bitmap = getBuffer;
        }
        long past = 0;
        for (long word = 0; word < bytes / 8; word++) {
            long w = bitmap.get(ValueLayout.JAVA_LONG_UNALIGNED, word * 8);
            while (w != 0) {
                long page = word * 64 + Long.numberOfTrailingZeros(w);
                w &= w - 1;
                if (page >= NPAGES) {
                    past++;
                } else {
                    destination[(int) page] = guest.get(GUEST_LONG, page * KvmApi.PAGE_SIZE);
                }
            }
        }
        return past;
    }
}
