package org.dirtylog.arch.linuxkvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;

/**
 * Creating and closing 1000 VMs (each with a logged 1 MiB memslot, a vCPU whose thread ran a
 * write, and a harvest) leaves the process with the same open descriptors, the same threads and
 * the same anonymous mapped bytes: one leaked VM would keep 4 fds, a thread and more than 1 MiB;
 * even a 4 KiB anonymous leak per VM (which merges into a neighbouring mapping, so the mapping
 * count barely moves) adds 1000 KiB to each quarter of the run, far above the 256 KiB allowed.
 * The anonymous bytes are judged by the quarter that grew least: a leak grows every quarter,
 * while the JVM maps a thread stack now and then on its own (a compiler or GC thread started
 * under CPU load; glibc keeps an exited thread's 1 MiB stack mapped for reuse), which the first
 * loaded run of the whole test command caught as "grew by 1024 KiB" with no VM leaking.
 */
class ResourceReleaseTests {

    private static final int VMS = 1000;
    private static final long SLOT_BYTES = 1 << 20;
    // The kernel's comm of "linux-kvm-vcpu-N": thread names are cut to 15 bytes.
    private static final String VCPU_THREAD_COMM = "linux-kvm-vcpu-";
    // HotSpot starts and stops compiler and GC worker threads on its own; one leaked vCPU thread per
    // VM would be +1000, so a tolerance of 2 cannot hide a backend leak.
    private static final int JVM_THREAD_TOLERANCE = 2;
    // Metaspace and malloc arenas may map a little more after warm-up; a 4 KiB-per-VM leak is 4000 KiB.
    private static final long ANONYMOUS_GROWTH_LIMIT = 256L << 10;

    @Test
    void closingAThousandVmsReturnsDescriptorsThreadsAndMappingsToWhereTheyStarted(TestReporter reporter) {
        KvmDevice.assumeAvailable();
        for (int i = 0; i < 20; i++) {
            cycle();
        }
        settle(0, Long.MAX_VALUE);
        long fdsBefore = openFds();
        long threadsBefore = threads();

        long[] quarterGrowth = new long[QUARTERS];
        for (int q = 0; q < QUARTERS; q++) {
            long anonymousBefore = anonymousBytes();
            for (int i = 0; i < VMS / QUARTERS; i++) {
                cycle();
            }
            quarterGrowth[q] = anonymousBytes() - anonymousBefore;
        }
        // A vCPU thread is joined by close() but its kernel task may take a moment to exit.
        settle(0, threadsBefore + JVM_THREAD_TOLERANCE);

        long vcpuThreads = vcpuThreads();
        long threadsGrown = threads() - threadsBefore;
        long leastGrowth = Arrays.stream(quarterGrowth).min().orElseThrow();
        String quarters = Arrays.stream(quarterGrowth).mapToObj(g -> (g >> 10) + " KiB")
                .collect(Collectors.joining(", "));
        reporter.publishEntry("growth after " + VMS + " VMs", "fds " + (openFds() - fdsBefore) + ", threads "
                + threadsGrown + " (vCPU threads alive " + vcpuThreads + "), anonymous mappings per quarter " + quarters);
        assertEquals(fdsBefore, openFds(), "open file descriptors");
        assertEquals(0, vcpuThreads, "vCPU threads still alive");
        assertTrue(threadsGrown <= JVM_THREAD_TOLERANCE, "threads grew by " + threadsGrown);
        assertTrue(leastGrowth < ANONYMOUS_GROWTH_LIMIT,
                "anonymous mappings grew in every quarter of " + VMS / QUARTERS + " VMs: " + quarters);
    }

    /** The run is judged per quarter of its VMs (see the class comment). */
    private static final int QUARTERS = 4;

    @Test
    void closingVmsWithMappedDirtyRingsUnmapsTheRingsAndReleasesTheVcpus() throws InterruptedException {
        KvmDevice.assumeAvailable();
        org.junit.jupiter.api.Assumptions.assumeTrue(
                new LinuxKvmBackend().capabilities().has(org.dirtylog.spi.Capability.DIRTY_LOG_RING), "no dirty ring");
        for (int i = 0; i < 5; i++) {
            ringCycle();
        }
        settle(0, Long.MAX_VALUE);
        long fdsBefore = openFds();
        long ringsBefore = vcpuFileMappings();
        for (int i = 0; i < RING_VMS; i++) {
            ringCycle();
        }
        settle(0, Long.MAX_VALUE);
        // A ring mapping left behind keeps its vCPU file (and with it the VM) alive although the fds are closed.
        assertEquals(ringsBefore, vcpuFileMappings(), "mappings of kvm-vcpu files");
        assertEquals(fdsBefore, openFds(), "open file descriptors");
    }

    private static final int RING_VMS = 200;

    private static void ringCycle() {
        try (BackendVm vm = KvmDevice.newVm()) {
            vm.enableDirtyLogRing(KvmApi.KVM_CAP_DIRTY_LOG_RING, 0, KvmApi.PAGE_SIZE).value();
            UserMemory memory = vm.mmap(SLOT_BYTES).value();
            vm.setUserMemoryRegion(new MemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, GuestProgram.KIT_BASE,
                    SLOT_BYTES, memory.address())).value();
            BackendVcpu vcpu = vm.createVcpu(0).value();
            vcpu.mmapDirtyRing(KvmApi.PAGE_SIZE, KvmApi.PROT_READ | KvmApi.PROT_WRITE, KvmApi.MAP_SHARED).value();
            vcpu.mmapDirtyRing(KvmApi.PAGE_SIZE, KvmApi.PROT_READ, KvmApi.MAP_SHARED).value();
            vcpu.runWrites(List.of(new GuestWrite(GuestProgram.KIT_BASE, 1))).value();
            vm.resetDirtyRings().value();
        }
    }

    /** Returns how many mappings of a vCPU file ({@code anon_inode:kvm-vcpu:N}) the process has. */
    private static long vcpuFileMappings() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.filter(line -> line.contains("kvm-vcpu")).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void cycle() {
        try (BackendVm vm = KvmDevice.newVm()) {
            UserMemory memory = vm.mmap(SLOT_BYTES).value();
            UserMemory bitmap = vm.mmap(KvmApi.PAGE_SIZE).value();
            vm.setUserMemoryRegion(new MemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, GuestProgram.KIT_BASE,
                    SLOT_BYTES, memory.address())).value();
            BackendVcpu vcpu = vm.createVcpu(0).value();
            vcpu.runWrites(List.of(new GuestWrite(GuestProgram.KIT_BASE, 1))).value();
            vm.getDirtyLog(0, bitmap.address()).value();
        }
    }

    /**
     * Polls until at most {@code vcpuThreads} vCPU threads and {@code threads} threads are left, or
     * until {@link Await#HANG}; the assertions after it decide, with the counts in their messages.
     */
    private static void settle(long vcpuThreads, long threads) {
        long deadline = System.nanoTime() + Await.HANG.toNanos();
        while ((vcpuThreads() > vcpuThreads || threads() > threads) && System.nanoTime() - deadline < 0) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    private static long openFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long threads() {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long vcpuThreads() {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.filter(t -> comm(t).startsWith(VCPU_THREAD_COMM)).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String comm(Path task) {
        try {
            return Files.readString(task.resolve("comm")).trim();
        } catch (NoSuchFileException exited) {
            return "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Returns the summed size of the mappings without a file: anonymous memory, the brk heap, stacks. */
    private static long anonymousBytes() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.map(line -> line.trim().split("\\s+"))
                    .filter(f -> f.length == 5 || f[5].startsWith("["))
                    .mapToLong(f -> {
                        String[] range = f[0].split("-");
                        return Long.parseUnsignedLong(range[1], 16) - Long.parseUnsignedLong(range[0], 16);
                    })
                    .sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
