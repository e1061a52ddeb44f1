package org.dirtylog.bench.kvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.dirtylog.arch.linuxkvm.LinuxKvmBackend;
import org.dirtylog.spi.Availability;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.RandomWriter;
import org.dirtylog.spi.RandomWrites;
import org.dirtylog.spi.UserMemory;

/**
 * Timed loops against the real kernel through the {@code linux-kvm} backend (only its public
 * SPI, exactly as the kit calls it). Run by {@code benchmarks/run-kvm} next to the
 * C loop of {@code src/main/c/get_dirty_log_bench.c}; not a test.
 *
 * <pre>
 *   KvmBench get SLOT_MIB ROUNDS CALLS
 *   KvmBench writes SLOT_MIB SECONDS VCPUS
 * </pre>
 * <ul>
 *   <li>{@code get}: {@code KVM_GET_DIRTY_LOG} on a clean logged slot with the C loop's setup and
 *       counts (slot 0 at guest physical 1 GiB, untouched MAP_NORESERVE memory, five warm-up
 *       rounds); prints {@code RESULT java-get-dirty-log <MiB> <median ns> <min ns>}.</li>
 *   <li>{@code writes}: guest writes per second, VCPUS vCPUs in random mode over the slot for
 *       SECONDS with no harvest (every first store to a page after a harvest is a write fault);
 *       then the same writers while this thread calls GET back to back, then every 10 ms: the
 *       GET time, writes per second meanwhile and pages reported per harvest.</li>
 * </ul>
 */
public final class KvmBench {

    private static final long SLOT_GPA = 1L << 30;
    private static final int WARMUP_ROUNDS = 5;
    private static final long HARVEST_PERIOD_MILLIS = 10;

    private KvmBench() {
    }

    public static void main(String[] args) throws InterruptedException {
        boolean get = args.length == 4 && args[0].equals("get");
        boolean writes = args.length == 4 && args[0].equals("writes");
        if (!get && !writes) {
            System.err.println("usage: KvmBench get SLOT_MIB ROUNDS CALLS | KvmBench writes SLOT_MIB SECONDS VCPUS");
            System.exit(2);
        }
        long slotBytes = Long.parseLong(args[1]) << 20;
        LinuxKvmBackend backend = new LinuxKvmBackend();
        Availability availability = backend.availability();
        if (!availability.available()) {
            System.err.println("linux-kvm unavailable: " + availability.reason());
            System.exit(3);
        }
        Capabilities caps = backend.capabilities();
        if (SLOT_GPA + slotBytes > caps.guestPhysLimit()) {
            System.err.println("slot too large for the backend's guest physical range");
            System.exit(2);
        }
        try (BackendVm vm = backend.createVm().value()) {
            UserMemory memory = vm.mmap(slotBytes).value();
            long npages = KvmApi.pages(slotBytes);
            long bitmapBytes = KvmApi.dirtyBitmapBytes(npages);
            UserMemory bitmap = vm.mmap((bitmapBytes + KvmApi.PAGE_SIZE - 1) & -KvmApi.PAGE_SIZE).value();
            vm.setUserMemoryRegion(new MemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, SLOT_GPA, slotBytes,
                    memory.address())).value();
            if (get) {
                long[] clean = timeGets(vm, bitmap.address(), Integer.parseInt(args[2]), Integer.parseInt(args[3]), "java");
                System.out.printf("RESULT java-get-dirty-log %d %d %d%n", slotBytes >> 20, clean[0], clean[1]);
                return;
            }
            double seconds = Double.parseDouble(args[2]);
            List<BackendVcpu> vcpus = new ArrayList<>();
            for (int v = 0; v < Integer.parseInt(args[3]); v++) {
                vcpus.add(vm.createVcpu(v).value());
            }
            writesPerSecond(vm, vcpus, npages, seconds, -1, bitmap, 1);
            writesPerSecond(vm, vcpus, npages, seconds, 0, bitmap, 2);
            writesPerSecond(vm, vcpus, npages, seconds, HARVEST_PERIOD_MILLIS, bitmap, 3);
        }
    }

    /** Returns {median, min} nanoseconds per GET over the measured rounds. */
    private static long[] timeGets(BackendVm vm, long bitmap, int rounds, int calls, String label) {
        long[] perCall = new long[rounds];
        for (int r = 0; r < rounds + WARMUP_ROUNDS; r++) {
            long start = System.nanoTime();
            for (int i = 0; i < calls; i++) {
                IoctlResult<Integer> result = vm.getDirtyLog(0, bitmap);
                if (!result.isOk()) {
                    throw new IllegalStateException("KVM_GET_DIRTY_LOG failed: " + result);
                }
            }
            long ns = (System.nanoTime() - start) / calls;
            if (r >= WARMUP_ROUNDS) {
                perCall[r - WARMUP_ROUNDS] = ns;
                System.out.printf("%-4s round %d: %d ns/call%n", label, r - WARMUP_ROUNDS + 1, ns);
            }
        }
        Arrays.sort(perCall);
        return new long[] {perCall[rounds / 2], perCall[0]};
    }

    /**
     * Runs the random writers for {@code seconds}. {@code periodMillis} < 0: no harvest;
     * 0: this thread harvests back to back; > 0: it harvests every {@code periodMillis}.
     * Prints one RESULT line.
     */
    private static void writesPerSecond(BackendVm vm, List<BackendVcpu> vcpus, long npages, double seconds,
                                        long periodMillis, UserMemory bitmap, long iteration)
            throws InterruptedException {
        // Start from a clean log so every run begins with every page write-protected.
        vm.getDirtyLog(0, bitmap.address()).value();
        List<RandomWriter> writers = new ArrayList<>();
        long start = System.nanoTime();
        for (BackendVcpu vcpu : vcpus) {
            writers.add(vcpu.startRandomWrites(new RandomWrites(SLOT_GPA, npages, iteration, 17L * vcpu.id() + iteration)).value());
        }
        long deadline = start + (long) (seconds * 1e9);
        List<Long> getNanos = new ArrayList<>();
        long reported = 0;
        if (periodMillis < 0) {
            Thread.sleep((long) (seconds * 1000));
        } else {
            MemorySegment words = bitmap.segment();
            while (System.nanoTime() < deadline) {
                if (periodMillis > 0) {
                    Thread.sleep(periodMillis);
                }
                long t0 = System.nanoTime();
                vm.getDirtyLog(0, bitmap.address()).value();
                getNanos.add(System.nanoTime() - t0);
                for (long off = 0; off < KvmApi.dirtyBitmapBytes(npages); off += 8) {
                    // Native memory: the bitmap mapping lives until the VM closes after main returns.
                    reported += Long.bitCount(words.get(ValueLayout.JAVA_LONG, off));
                }
            }
        }
        long writes = 0;
        for (RandomWriter w : writers) {
            writes += w.stop().value();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        if (periodMillis < 0) {
            System.out.printf("RESULT java-guest-writes-per-second %d %.0f%n", vcpus.size(), writes / elapsed);
        } else {
            long[] sorted = getNanos.stream().mapToLong(Long::longValue).sorted().toArray();
            System.out.printf("RESULT java-harvest-while-writing %d %.0f %d %d %d %.1f %d%n", vcpus.size(),
                    writes / elapsed, sorted.length, sorted[sorted.length / 2], sorted[sorted.length * 99 / 100],
                    (double) reported / sorted.length, periodMillis);
        }
    }
}
