package org.dirtylog.arch.tests;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.BitSet;
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
 * The §4 oracle as a migration: vCPUs store the current iteration number (high 32 bits; the
 * low bits make every store's value unique) into random pages while the host harvests about
 * every millisecond and copies every reported page to a destination, bumping the iteration
 * after each harvest; then the vCPUs stop, a final harvest copies the rest.
 *
 * <p>Two checks. Per harvest: just before it is invoked, every page whose content differs from
 * its last copy was written after that copy, by a store that has completed, so the harvest
 * must report it (no lost write, §4). Per round, after the final harvest with the vCPUs
 * stopped: every page of the destination equals the source.
 */
final class SelftestOracle {

    enum Harvest { SWITCH, GET }

    /** What one run observed. */
    record Report(long writes, long harvests, long lostPages, long useAfterFree, long bitsPastNpages, long millis) {
        boolean clean() {
            return lostPages == 0 && useAfterFree == 0 && bitsPastNpages == 0;
        }
    }

    /** 2^15 + 3 pages: a partial last bitmap word, and few enough rewrites per millisecond that a lost write stays visible. */
    static final long NPAGES = (1 << 15) + 3;
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
                    long[] sequence = {0};
                    long lane = (long) cpu.id() << 28;
                    writers.add(cpu.startRandomWrites(
                            new RandomWrites(GPA, NPAGES, 0, iteration.get() * 31 + cpu.id()),
                            () -> iteration.get() << 32 | lane | (++sequence[0] & 0x0fff_ffffL)).value());
                }
                long period = TimeUnit.MILLISECONDS.toNanos(1);
                long next = System.nanoTime() + period;
                long roundEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(40);
                while (System.nanoTime() < roundEnd) {
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    }
                    next += period;
                    Outcome outcome = harvest(vm, mode, active, getBuffer, memory.segment(), destination);
                    bitsPast += outcome.bitsPast();
                    lost += outcome.unreported();
                    iteration.incrementAndGet();
                    harvests++;
                }
                for (RandomWriter writer : writers) {
                    IoctlResult<Long> stopped = writer.stop();
                    writes += stopped.value();
                }
                Outcome last = harvest(vm, mode, active, getBuffer, memory.segment(), destination);
                bitsPast += last.bitsPast();
                lost += last.unreported();
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

    private record Outcome(long unreported, long bitsPast) {
    }

    /**
     * Notes the pages changed since their last copy, harvests once, copies every reported page
     * to {@code destination}, and returns how many noted pages went unreported and how many
     * bits were set past npages.
     */
    private static Outcome harvest(Vm vm, Harvest mode, long[] active, MemorySegment getBuffer,
                                MemorySegment guest, long[] destination) {
        long bytes = KvmApi.dirtyBitmapBytes(NPAGES);
        BitSet changed = new BitSet((int) NPAGES);
        for (int p = 0; p < NPAGES; p++) {
            if (guest.get(GUEST_LONG, p * KvmApi.PAGE_SIZE) != destination[p]) {
                changed.set(p);
            }
        }
        MemorySegment bitmap;
        if (mode == Harvest.SWITCH) {
            int r = vm.switchDirtyLog(SLOT).value();
            if (r == 1) {
                return new Outcome(changed.cardinality(), 0);
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
                    changed.clear((int) page);
                    destination[(int) page] = guest.get(GUEST_LONG, page * KvmApi.PAGE_SIZE);
                }
            }
        }
        return new Outcome(changed.cardinality(), past);
    }
}
