package org.dirtylog.bench.kvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.dirtylog.arch.linuxkvm.LinuxKvmBackend;
import org.dirtylog.spi.Availability;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.ClearDirtyLog;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserMemory;

/**
 * {@code KVM_CLEAR_DIRTY_LOG} of a whole slot in which every page is dirty, through the
 * {@code linux-kvm} backend (only its public SPI, as the kit calls it). Run by
 * {@code arch-adapters/benchmarks/run-kvm-clear} next to the C loop of
 * {@code src/main/c/clear_dirty_log_bench.c}; not a test.
 *
 * <pre>
 *   KvmClearBench clear SLOT_MIB ROUNDS CALLS
 *   KvmClearBench guest SLOT_MIB SAMPLES
 * </pre>
 * <ul>
 *   <li>{@code clear}: the C loop's setup and counts: manual protect with INITIALLY_SET, every
 *       sample switches logging off and on (a new bitmap with every page set, not timed) and
 *       times one CLEAR of all pages with an all-ones user bitmap; two warm-up rounds; prints
 *       {@code RESULT java-clear-dirty-log <MiB> <median ns> <min ns>}.</li>
 *   <li>{@code guest}: the guest writes every page of the slot first (each write a fault, so
 *       every page is mapped writable and dirty), then one CLEAR is timed; repeated SAMPLES
 *       times; prints {@code RESULT java-clear-after-guest-writes <MiB> <median ns> <min ns>}.
 *       No C twin: the C loop has no guest.</li>
 * </ul>
 */
public final class KvmClearBench {

    private static final long SLOT_GPA = 1L << 30;
    private static final int WARMUP_ROUNDS = 2;
    private static final long ALL = KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KvmApi.KVM_DIRTY_LOG_INITIALLY_SET;

    private KvmClearBench() {
    }

    public static void main(String[] args) {
        boolean clear = args.length == 4 && args[0].equals("clear");
        boolean guest = args.length == 3 && args[0].equals("guest");
        if (!clear && !guest) {
            System.err.println("usage: KvmClearBench clear SLOT_MIB ROUNDS CALLS | KvmClearBench guest SLOT_MIB SAMPLES");
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
        if (!caps.has(Capability.DIRTY_LOG_INITIALLY_SET)) {
            System.err.println("this kernel reports no KVM_DIRTY_LOG_INITIALLY_SET in KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2");
            System.exit(3);
        }
        if (SLOT_GPA + slotBytes > caps.guestPhysLimit()) {
            System.err.println("slot too large for the backend's guest physical range");
            System.exit(2);
        }
        try (BackendVm vm = backend.createVm().value()) {
            vm.enableManualDirtyLogProtect(0, clear ? ALL : KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE).value();
            UserMemory memory = vm.mmap(slotBytes).value();
            long npages = KvmApi.pages(slotBytes);
            long bitmapBytes = KvmApi.dirtyBitmapBytes(npages);
            UserMemory ones = vm.mmap((bitmapBytes + KvmApi.PAGE_SIZE - 1) & -KvmApi.PAGE_SIZE).value();
            UserMemory got = vm.mmap(ones.length()).value();
            ones.segment().asSlice(0, bitmapBytes).fill((byte) 0xff);
            MemoryRegion region = new MemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, SLOT_GPA, slotBytes, memory.address());
            vm.setUserMemoryRegion(region).value();
            ClearDirtyLog all = new ClearDirtyLog(0, Math.toIntExact(npages), 0, ones.address());
            if (clear) {
                checkSetup(vm, region, all, got, npages);
                long[] r = timeClears(vm, region, all, Integer.parseInt(args[2]), Integer.parseInt(args[3]));
                System.out.printf("RESULT java-clear-dirty-log %d %d %d%n", slotBytes >> 20, r[0], r[1]);
            } else {
                long[] r = timeClearsAfterGuestWrites(vm, all, got, npages, Integer.parseInt(args[2]));
                System.out.printf("RESULT java-clear-after-guest-writes %d %d %d%n", slotBytes >> 20, r[0], r[1]);
            }
        }
    }

    /** Switches logging off and on: under INITIALLY_SET the new bitmap has every page set. */
    private static void refill(BackendVm vm, MemoryRegion region) {
        vm.setUserMemoryRegion(region.withFlags(0)).value();
        vm.setUserMemoryRegion(region).value();
    }

    /** Returns the number of pages GET reports into {@code buffer}. */
    private static long dirtyPages(BackendVm vm, UserMemory buffer, long npages) {
        vm.getDirtyLog(0, buffer.address()).value();
        MemorySegment words = buffer.segment();
        long count = 0;
        for (long off = 0; off < KvmApi.dirtyBitmapBytes(npages); off += 8) {
            // Native memory: the buffer mapping lives until the VM closes after main returns.
            count += Long.bitCount(words.get(ValueLayout.JAVA_LONG, off));
        }
        return count;
    }

    /** Checks once that a refill sets every page and that one CLEAR clears them all. */
    private static void checkSetup(BackendVm vm, MemoryRegion region, ClearDirtyLog all, UserMemory buffer, long npages) {
        refill(vm, region);
        long before = dirtyPages(vm, buffer, npages);
        vm.clearDirtyLog(all).value();
        long after = dirtyPages(vm, buffer, npages);
        if (before != npages || after != 0) {
            throw new IllegalStateException("setup check failed: " + before + " dirty before CLEAR (want " + npages
                    + "), " + after + " after (want 0)");
        }
    }

    /** Returns {median, min} over the measured rounds of the mean nanoseconds per CLEAR. */
    private static long[] timeClears(BackendVm vm, MemoryRegion region, ClearDirtyLog all, int rounds, int calls) {
        long[] perCall = new long[rounds];
        for (int r = 0; r < rounds + WARMUP_ROUNDS; r++) {
            long total = 0;
            for (int i = 0; i < calls; i++) {
                refill(vm, region);
                long start = System.nanoTime();
                IoctlResult<Integer> result = vm.clearDirtyLog(all);
                total += System.nanoTime() - start;
                if (!result.isOk()) {
                    throw new IllegalStateException("KVM_CLEAR_DIRTY_LOG failed: " + result);
                }
            }
            long ns = total / calls;
            if (r >= WARMUP_ROUNDS) {
                perCall[r - WARMUP_ROUNDS] = ns;
                System.out.printf("java round %d: %d ns/call%n", r - WARMUP_ROUNDS + 1, ns);
            }
        }
        Arrays.sort(perCall);
        return new long[] {perCall[rounds / 2], perCall[0]};
    }

    /** Returns {median, min} nanoseconds of one CLEAR each after the guest wrote every page. */
    private static long[] timeClearsAfterGuestWrites(BackendVm vm, ClearDirtyLog all, UserMemory buffer, long npages,
                                                     int samples) {
        List<GuestWrite> everyPage = new ArrayList<>();
        for (long p = 0; p < npages; p++) {
            everyPage.add(new GuestWrite(SLOT_GPA + p * KvmApi.PAGE_SIZE, p));
        }
        var vcpu = vm.createVcpu(0).value();
        long[] ns = new long[samples];
        for (int s = 0; s < samples; s++) {
            long t0 = System.nanoTime();
            vcpu.runWrites(everyPage).value();
            double writeSeconds = (System.nanoTime() - t0) / 1e9;
            long dirty = dirtyPages(vm, buffer, npages);
            long start = System.nanoTime();
            vm.clearDirtyLog(all).value();
            ns[s] = System.nanoTime() - start;
            if (dirty != npages || dirtyPages(vm, buffer, npages) != 0) {
                throw new IllegalStateException(dirty + " of " + npages + " pages dirty before the CLEAR");
            }
            System.out.printf("java guest sample %d: %d ns (the guest wrote %d pages in %.1f s)%n", s + 1, ns[s], npages,
                    writeSeconds);
        }
        Arrays.sort(ns);
        return new long[] {ns[samples / 2], ns[0]};
    }
}
