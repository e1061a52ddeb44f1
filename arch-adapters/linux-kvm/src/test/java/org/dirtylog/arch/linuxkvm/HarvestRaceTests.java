package org.dirtylog.arch.linuxkvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserMemory;
import org.junit.jupiter.api.Test;

/**
 * Harvesters racing a thread that unmaps their bitmap buffer and at once maps memory the VM does
 * not own (as the JVM might) at whatever address the kernel picks, often the freed one: every
 * GET returns 0 or {@code -EFAULT}, and no byte of that foreign memory is ever written.
 */
class HarvestRaceTests {

    private static final long GPA = GuestProgram.KIT_BASE;
    private static final long PAGES = 67;
    private static final int HARVESTERS = 2;
    private static final int SWAPS = 1000;
    private static final byte CANARY = 0x5a;

    @Test
    @SuppressWarnings("restricted") // the canaries come from mmap and are unmapped by this test
    void harvestsRacingMunmapOfTheirBufferNeverWriteIntoMemoryThatReusedItsAddress() throws InterruptedException {
        try (BackendVm vm = KvmDevice.newVm()) {
            UserMemory memory = vm.mmap(PAGES * KvmApi.PAGE_SIZE).value();
            assertEquals(IoctlResult.ok(0), vm.setUserMemoryRegion(new MemoryRegion(0,
                    KvmApi.KVM_MEM_LOG_DIRTY_PAGES, GPA, memory.length(), memory.address())));
            AtomicReference<UserMemory> buffer = new AtomicReference<>(vm.mmap(KvmApi.PAGE_SIZE).value());
            AtomicBoolean done = new AtomicBoolean();
            AtomicLong harvests = new AtomicLong();
            AtomicLong faults = new AtomicLong();
            Queue<String> unexpected = new ConcurrentLinkedQueue<>();
            List<Thread> harvesters = new ArrayList<>();
            for (int h = 0; h < HARVESTERS; h++) {
                harvesters.add(Thread.ofPlatform().start(() -> {
                    while (!done.get()) {
                        IoctlResult<Integer> r = vm.getDirtyLog(0, buffer.get().address());
                        if (Errno.EFAULT.equals(r.errnoOrNull())) {
                            faults.incrementAndGet();
                        } else if (!r.isOk()) {
                            unexpected.add(r.toString());
                        }
                        harvests.incrementAndGet();
                    }
                }));
            }
            List<MemorySegment> canaries = new ArrayList<>();
            int reused = 0;
            try {
                for (int i = 0; i < SWAPS; i++) {
                    UserMemory old = buffer.getAndSet(vm.mmap(KvmApi.PAGE_SIZE).value());
                    assertEquals(IoctlResult.ok(0), vm.munmap(old));
                    long address = Syscalls.mmap(KvmApi.PAGE_SIZE, Syscalls.PROT_READ | Syscalls.PROT_WRITE,
                            Syscalls.MAP_PRIVATE | Syscalls.MAP_ANONYMOUS, -1);
                    assertTrue(address > 0, "mmap: " + address);
                    reused += address == old.address() ? 1 : 0;
                    // Native memory: a page of our own, unmapped at the end of this test.
                    MemorySegment canary = MemorySegment.ofAddress(address).reinterpret(KvmApi.PAGE_SIZE);
                    canary.fill(CANARY);
                    canaries.add(canary);
                }
            } finally {
                done.set(true);
                for (Thread t : harvesters) {
                    t.join();
                }
            }
            try {
                assertTrue(unexpected.isEmpty(), "GET results other than 0 and -EFAULT: " + unexpected);
                assertTrue(reused > 0, "the kernel never reused a freed buffer address, the race was not exercised");
                for (MemorySegment canary : canaries) {
                    for (long b = 0; b < KvmApi.dirtyBitmapBytes(PAGES); b++) {
                        // Native memory: still mapped, the unmapping is below.
                        assertEquals(CANARY, canary.get(ValueLayout.JAVA_BYTE, b),
                                "byte " + b + " of foreign memory at 0x" + Long.toHexString(canary.address()));
                    }
                }
                assertTrue(harvests.get() > SWAPS, "only " + harvests.get() + " harvests, " + faults.get() + " -EFAULT");
            } finally {
                for (MemorySegment canary : canaries) {
                    Syscalls.munmap(canary.address(), KvmApi.PAGE_SIZE);
                }
            }
        }
    }
}
