package org.dirtylog.arch.linuxkvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
 * write, and a harvest) leaves the process with the same open descriptors and no more mapped
 * memory than a leak-free run allows: one leaked VM would keep 4 fds and more than 1 MiB.
 */
class ResourceReleaseTests {

    private static final int VMS = 1000;
    private static final long SLOT_BYTES = 1 << 20;

    @Test
    void closingAThousandVmsReturnsDescriptorsAndMappingsToWhereTheyStarted(TestReporter reporter) {
        KvmDevice.assumeAvailable();
        for (int i = 0; i < 20; i++) {
            cycle();
        }
        long fdsBefore = openFds();
        long mappingsBefore = mappings();
        long vmBytesBefore = virtualBytes();

        for (int i = 0; i < VMS; i++) {
            cycle();
        }

        assertEquals(fdsBefore, openFds(), "open file descriptors");
        long mapped = mappings() - mappingsBefore;
        long grown = virtualBytes() - vmBytesBefore;
        reporter.publishEntry("growth after " + VMS + " VMs", "fds " + (openFds() - fdsBefore) + ", mappings "
                + mapped + ", address space " + (grown >> 10) + " KiB");
        assertTrue(mapped < 64, "mappings grew by " + mapped);
        // Allocator arenas and JIT code may grow a little; one leaked slot per VM alone is 1000 MiB.
        assertTrue(grown < 256L << 20, "address space grew by " + (grown >> 20) + " MiB");
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

    private static long openFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long mappings() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long virtualBytes() {
        try {
            String statm = Files.readString(Path.of("/proc/self/statm")).trim();
            return Long.parseLong(statm.split(" ")[0]) * KvmApi.PAGE_SIZE;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
