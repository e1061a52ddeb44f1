package org.dirtylog.arch.linuxkvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.ClearDirtyLog;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserMemory;
import org.junit.jupiter.api.Test;

/**
 * CLEARs racing a thread that unmaps their user bitmap and at once maps memory the VM does not
 * own (as the JVM might), filled with ones, at whatever address the kernel picks, often the freed
 * one. The bitmaps the kit hands over are all zero, so a CLEAR that clears anything read foreign
 * memory: every page of the slot, all dirty from the start (INITIALLY_SET), must stay dirty.
 */
class ClearRaceTests {

    private static final long GPA = GuestProgram.KIT_BASE;
    private static final long PAGES = 67;
    private static final int CLEARERS = 2;
    private static final int SWAPS = 1000;

    @Test
    @SuppressWarnings("restricted") // the foreign pages come from mmap and are unmapped by this test
    void clearsRacingMunmapOfTheirBitmapNeverReadMemoryThatReusedItsAddress() throws InterruptedException {
        try (BackendVm vm = KvmDevice.newVm()) {
            assumeTrue(new LinuxKvmBackend().capabilities().has(Capability.DIRTY_LOG_INITIALLY_SET),
                    "this kernel reports no KVM_DIRTY_LOG_INITIALLY_SET");
            assertEquals(IoctlResult.ok(0), vm.enableManualDirtyLogProtect(0,
                    KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KvmApi.KVM_DIRTY_LOG_INITIALLY_SET));
            UserMemory memory = vm.mmap(PAGES * KvmApi.PAGE_SIZE).value();
            assertEquals(IoctlResult.ok(0), vm.setUserMemoryRegion(new MemoryRegion(0,
                    KvmApi.KVM_MEM_LOG_DIRTY_PAGES, GPA, memory.length(), memory.address())));
            AtomicReference<UserMemory> bitmap = new AtomicReference<>(vm.mmap(KvmApi.PAGE_SIZE).value());
            AtomicBoolean done = new AtomicBoolean();
            AtomicLong clears = new AtomicLong();
            Queue<String> unexpected = new ConcurrentLinkedQueue<>();
            List<Thread> clearers = new ArrayList<>();
            for (int c = 0; c < CLEARERS; c++) {
                clearers.add(Thread.ofPlatform().start(() -> {
                    while (!done.get()) {
                        IoctlResult<Integer> r = vm.clearDirtyLog(new ClearDirtyLog(0, (int) PAGES, 0, bitmap.get().address()));
                        if (!r.isOk() && !Errno.EFAULT.equals(r.errnoOrNull())) {
                            unexpected.add(r.toString());
                        }
                        clears.incrementAndGet();
                    }
                }));
            }
            List<MemorySegment> foreign = new ArrayList<>();
            int reused = 0;
            try {
                for (int i = 0; i < SWAPS; i++) {
                    UserMemory old = bitmap.getAndSet(vm.mmap(KvmApi.PAGE_SIZE).value());
                    assertEquals(IoctlResult.ok(0), vm.munmap(old));
                    long address = Syscalls.mmap(KvmApi.PAGE_SIZE, Syscalls.PROT_READ | Syscalls.PROT_WRITE,
                            Syscalls.MAP_PRIVATE | Syscalls.MAP_ANONYMOUS, -1);
                    assertTrue(address > 0, "mmap: " + address);
                    reused += address == old.address() ? 1 : 0;
                    // Native memory: a page of our own, unmapped at the end of this test.
                    MemorySegment page = MemorySegment.ofAddress(address).reinterpret(KvmApi.PAGE_SIZE);
                    page.fill((byte) 0xff);
                    foreign.add(page);
                }
            } finally {
                done.set(true);
                for (Thread t : clearers) {
                    t.join();
                }
                for (MemorySegment page : foreign) {
                    Syscalls.munmap(page.address(), KvmApi.PAGE_SIZE);
                }
            }
            assertTrue(unexpected.isEmpty(), "CLEAR results other than 0 and -EFAULT: " + unexpected);
            assertTrue(reused > 0, "the kernel never reused a freed bitmap address, the race was not exercised");
            assertTrue(clears.get() > SWAPS, "only " + clears.get() + " CLEARs");
            UserMemory buffer = vm.mmap(KvmApi.PAGE_SIZE).value();
            assertEquals(IoctlResult.ok(0), vm.getDirtyLog(0, buffer.address()));
            // Native memory: this VM's mapping, alive until the VM closes.
            long first = buffer.segment().get(ValueLayout.JAVA_LONG, 0);
            long second = buffer.segment().get(ValueLayout.JAVA_LONG, 8);
            assertEquals(-1L, first, "pages 0-63 after the race (a 0 bit: a CLEAR read foreign memory)");
            assertEquals((1L << (PAGES - 64)) - 1, second, "pages 64-66 after the race");
        }
    }
}
