package org.dirtylog.arch.linuxkvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
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
import org.junit.jupiter.api.TestReporter;

/**
 * Harvesters racing a thread that unmaps their bitmap buffer and at once maps memory the VM does
 * not own (as the JVM might) at the address just freed: every GET returns 0 or {@code -EFAULT},
 * and no byte of that foreign memory is ever written.
 */
class HarvestRaceTests {

    private static final long GPA = GuestProgram.KIT_BASE;
    private static final long PAGES = 67;
    private static final int HARVESTERS = 2;
    private static final int SWAPS = 1000;
    private static final byte CANARY = 0x5a;
    // Linux 4.17: map exactly there, or fail with EEXIST if anything is mapped there already.
    private static final int MAP_FIXED_NOREPLACE = 0x100000;
    private static final long MAP_FAILED = -1L;
    // mmap with an address: Syscalls.mmap always lets the kernel choose.
    @SuppressWarnings("restricted")
    private static final MethodHandle MMAP_AT = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("mmap").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));

    /**
     * Returns the address of a new private read-write page mapped at {@code address}, another
     * address on a kernel that takes the flag for a hint, or {@link #MAP_FAILED}.
     */
    private static long mapPageAt(long address) {
        try {
            return (long) MMAP_AT.invokeExact(address, KvmApi.PAGE_SIZE, Syscalls.PROT_READ | Syscalls.PROT_WRITE,
                    Syscalls.MAP_PRIVATE | Syscalls.MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0L);
        } catch (Throwable t) {
            throw new IllegalStateException("mmap downcall failed", t);
        }
    }

    @Test
    @SuppressWarnings("restricted") // the canaries come from mmap and are unmapped by this test
    void harvestsRacingMunmapOfTheirBufferNeverWriteIntoMemoryThatReusedItsAddress(TestReporter reporter)
            throws InterruptedException {
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
                    // Foreign memory at the freed address, claimed at once (as the JVM's next mmap
                    // might): the race this test is about then happens on every swap, whatever
                    // address the kernel would have picked. Only when some other thread mapped
                    // that address first does the canary go wherever the kernel puts it.
                    long address = mapPageAt(old.address());
                    if (address == old.address()) {
                        reused++;
                    } else if (address == MAP_FAILED) {
                        address = Syscalls.mmap(KvmApi.PAGE_SIZE, Syscalls.PROT_READ | Syscalls.PROT_WRITE,
                                Syscalls.MAP_PRIVATE | Syscalls.MAP_ANONYMOUS, -1);
                    }
                    assertTrue(address > 0, "mmap: " + address);
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
                for (MemorySegment canary : canaries) {
                    for (long b = 0; b < KvmApi.dirtyBitmapBytes(PAGES); b++) {
                        // Native memory: still mapped, the unmapping is below.
                        assertEquals(CANARY, canary.get(ValueLayout.JAVA_BYTE, b),
                                "byte " + b + " of foreign memory at 0x" + Long.toHexString(canary.address()));
                    }
                }
                assertTrue(harvests.get() > SWAPS, "only " + harvests.get() + " harvests, " + faults.get() + " -EFAULT");
                reporter.publishEntry("freed buffer addresses mapped again as foreign memory", reused + " of " + SWAPS);
                assumeTrue(reused > 0, "no freed buffer address could be mapped again (this kernel has no "
                        + "MAP_FIXED_NOREPLACE, or other threads always took it first): the race was not exercised");
            } finally {
                for (MemorySegment canary : canaries) {
                    Syscalls.munmap(canary.address(), KvmApi.PAGE_SIZE);
                }
            }
        }
    }
}
