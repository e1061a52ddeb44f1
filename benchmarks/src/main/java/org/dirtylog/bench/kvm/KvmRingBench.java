package org.dirtylog.bench.kvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.dirtylog.arch.linuxkvm.LinuxKvmBackend;
import org.dirtylog.spi.Availability;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.DirtyGfn;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserMemory;
import org.dirtylog.spi.VcpuExit;
import org.dirtylog.spi.VcpuRun;

/**
 * The dirty-ring collector of the kit timed against the real kernel through the
 * {@code linux-kvm} backend's SPI, next to the same collector in C
 * ({@code src/main/c/ring_harvest_bench.c}); run by {@code benchmarks/run-kvm-ring},
 * not a test.
 *
 * <pre>
 *   KvmRingBench RING_ENTRIES ENTRIES_PER_ROUND ROUNDS
 * </pre>
 * Each round the guest stores once into each of ENTRIES_PER_ROUND distinct pages of a logged slot
 * (untimed), then the collector is timed: load-acquire flags == DIRTY, read slot and offset,
 * store-release RESET, for every entry in order; then {@code KVM_RESET_DIRTY_RINGS}, which must
 * return what was collected. Prints one line per round and
 * {@code RESULT java-ring-harvest <entries/round> <median ns/round collect+reset> <median ns/round collect>}.
 * The first ten rounds warm up (the JIT compiles the loop), as in C. The collector uses
 * {@link DirtyGfn}'s accessors on the segment the backend maps: flags and slot in one 8-byte
 * load-acquire ({@link DirtyGfn#flagsAndSlotAcquire}), the offset, a store-release of RESET.
 */
public final class KvmRingBench {

    private static final long SLOT_GPA = 1L << 30;
    private static final int WARMUP_ROUNDS = 10;

    private KvmRingBench() {
    }

    /**
     * Harvests the ring in order from {@code fetch} until the first entry that is not DIRTY,
     * marking each RESET, adds slot + offset of each to {@code sums[0]} and returns the new
     * fetch index. Its own method, so the JIT compiles it whole rather than on-stack in main.
     */
    /** Offsets in {@code struct kvm_dirty_gfn} ({@code <linux/kvm.h>}: __u32 flags, __u32 slot, __u64 offset). */
    private static final long FLAGS = 0;
    private static final long SLOT = 4;
    private static final long OFFSET = 8;

    /**
     * The batched collector, the same entries as {@link #collect}: plain loads of {@code flags} up to
     * the first entry that is not DIRTY, one acquire fence (a load followed by it is ordered as a
     * load-acquire), the reads, one release fence (every read before it is ordered before every
     * store after it, as a store-release orders the reads before it), plain stores of RESET.
     * The per-entry barriers of {@link #collect} also keep the JIT from keeping the segment's
     * bounds and liveness in registers; batching them leaves counted loops it can optimise.
     */
    private static long collectBatched(MemorySegment ring, long entries, long fetch, long[] sums) {
        long mask = entries - 1;
        long n = 0;
        while (n < entries && ring.get(ValueLayout.JAVA_INT, ((fetch + n) & mask) * DirtyGfn.SIZE + FLAGS)
                == DirtyGfn.KVM_DIRTY_GFN_F_DIRTY) {
            n++;
        }
        VarHandle.acquireFence();
        long checksum = 0;
        for (long k = 0; k < n; k++) {
            long at = ((fetch + k) & mask) * DirtyGfn.SIZE;
            checksum += ring.get(ValueLayout.JAVA_INT, at + SLOT) + ring.get(ValueLayout.JAVA_LONG, at + OFFSET);
        }
        VarHandle.releaseFence();
        for (long k = 0; k < n; k++) {
            ring.set(ValueLayout.JAVA_INT, ((fetch + k) & mask) * DirtyGfn.SIZE + FLAGS, DirtyGfn.KVM_DIRTY_GFN_F_RESET);
        }
        sums[0] += checksum;
        return fetch + n;
    }

    private static long collect(MemorySegment ring, long entries, long fetch, long[] sums) {
        long checksum = 0;
        long index = fetch;
        while (true) {
            long position = DirtyGfn.position(index, entries);
            // flags and slot in one 8-byte load-acquire (see DirtyGfn.flagsAndSlotAcquire), then the offset.
            long flagsAndSlot = DirtyGfn.flagsAndSlotAcquire(ring, position);
            if ((int) flagsAndSlot != DirtyGfn.KVM_DIRTY_GFN_F_DIRTY) {
                break;
            }
            checksum += (int) (flagsAndSlot >>> 32) + DirtyGfn.offsetOf(ring, position);
            DirtyGfn.setFlagsRelease(ring, position, DirtyGfn.KVM_DIRTY_GFN_F_RESET);
            index++;
        }
        sums[0] += checksum;
        return index;
    }

    public static void main(String[] args) {
        if (args.length != 3 && args.length != 4 || args.length == 4 && !List.of("per-entry", "batched").contains(args[3])) {
            System.err.println("usage: KvmRingBench RING_ENTRIES ENTRIES_PER_ROUND ROUNDS [per-entry|batched]");
            System.exit(2);
        }
        boolean batched = args.length == 4 && args[3].equals("batched");
        long ringEntries = Long.parseLong(args[0]);
        int perRound = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        LinuxKvmBackend backend = new LinuxKvmBackend();
        Availability availability = backend.availability();
        if (!availability.available()) {
            System.err.println("linux-kvm unavailable: " + availability.reason());
            System.exit(3);
        }
        try (BackendVm vm = backend.createVm().value()) {
            int cap = vm.checkExtension(KvmApi.KVM_CAP_DIRTY_LOG_RING_ACQ_REL).value() > 0
                    ? KvmApi.KVM_CAP_DIRTY_LOG_RING_ACQ_REL : KvmApi.KVM_CAP_DIRTY_LOG_RING;
            long ringBytes = ringEntries * DirtyGfn.SIZE;
            vm.enableDirtyLogRing(cap, 0, ringBytes).value();
            long slotBytes = perRound * KvmApi.PAGE_SIZE;
            UserMemory memory = vm.mmap(slotBytes).value();
            vm.setUserMemoryRegion(new MemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, SLOT_GPA, slotBytes,
                    memory.address())).value();
            BackendVcpu vcpu = vm.createVcpu(0).value();
            MemorySegment ring = vcpu.mmapDirtyRing(ringBytes, KvmApi.PROT_READ | KvmApi.PROT_WRITE,
                    KvmApi.MAP_SHARED).value().segment();
            long[] total = new long[rounds];
            long[] collect = new long[rounds];
            long fetch = 0;
            long[] sums = new long[1];
            // One list for every round: no allocation of this thread's competes with the timed part for the CPUs.
            List<GuestWrite> writes = new ArrayList<>(perRound);
            for (long p = 0; p < perRound; p++) {
                writes.add(new GuestWrite(SLOT_GPA + p * KvmApi.PAGE_SIZE, p + 1));
            }
            for (int r = 0; r < rounds + WARMUP_ROUNDS; r++) {
                VcpuRun run = vcpu.runWritesUntilExit(writes).value();
                if (run.exit() != VcpuExit.DONE || run.writes() != perRound) {
                    throw new IllegalStateException("guest writes ended with " + run);
                }
                long t0 = System.nanoTime();
                long before = fetch;
                fetch = batched ? collectBatched(ring, ringEntries, fetch, sums) : collect(ring, ringEntries, fetch, sums);
                long taken = fetch - before;
                long t1 = System.nanoTime();
                IoctlResult<Integer> reset = vm.resetDirtyRings();
                long t2 = System.nanoTime();
                if (!reset.isOk() || reset.value() != taken || taken < perRound) {
                    throw new IllegalStateException("round " + r + " collected " + taken + ", reset " + reset);
                }
                if (r >= WARMUP_ROUNDS) {
                    int i = r - WARMUP_ROUNDS;
                    total[i] = t2 - t0;
                    collect[i] = t1 - t0;
                    System.out.printf("java round %d: collect %d ns, reset %d ns, %d entries%n", i + 1, t1 - t0,
                            t2 - t1, taken);
                }
            }
            Arrays.sort(total);
            Arrays.sort(collect);
            System.out.printf("RESULT java-ring-harvest %d %d %d (checksum %d, %s)%n", perRound, total[rounds / 2],
                    collect[rounds / 2], sums[0], batched ? "batched" : "per-entry");
        }
    }
}
