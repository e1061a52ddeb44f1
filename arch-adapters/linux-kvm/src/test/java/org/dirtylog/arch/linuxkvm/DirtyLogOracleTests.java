package org.dirtylog.arch.linuxkvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.RandomWriter;
import org.dirtylog.spi.RandomWrites;
import org.dirtylog.spi.UserMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;

/**
 * The selftest oracle of the semantics note (section 4) against the real kernel: two vCPUs store
 * the iteration number into random pages of a logged slot of 2^10 + 3 pages (last bitmap word
 * partial) while this thread harvests with KVM_GET_DIRTY_LOG; then the vCPUs stop and it
 * harvests again. For every page: reported in either harvest iff it holds the current iteration
 * (completeness and precision both), and no bit is set past npages.
 */
class DirtyLogOracleTests {

    private static final long GPA = GuestProgram.KIT_BASE;
    private static final long PAGES = (1 << 10) + 3;
    private static final int VCPUS = 2;
    private static final int ITERATIONS = 200;
    private static final int HARVESTS_WHILE_WRITING = 3;

    @Test
    void everyPageIsReportedExactlyWhenItHoldsTheCurrentIteration(TestReporter reporter) throws InterruptedException {
        try (BackendVm vm = KvmDevice.newVm()) {
            UserMemory memory = vm.mmap(PAGES * KvmApi.PAGE_SIZE).value();
            UserMemory buffer = vm.mmap(KvmApi.PAGE_SIZE).value();
            vm.setUserMemoryRegion(new MemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, GPA, memory.length(),
                    memory.address())).value();
            List<BackendVcpu> vcpus = new ArrayList<>();
            for (int v = 0; v < VCPUS; v++) {
                vcpus.add(vm.createVcpu(v).value());
            }
            long words = KvmApi.dirtyBitmapBytes(PAGES) / 8;
            long totalWrites = 0;
            long reportedWhileWriting = 0;
            for (long iteration = 1; iteration <= ITERATIONS; iteration++) {
                long[] reported = new long[(int) words];
                List<RandomWriter> writers = new ArrayList<>();
                for (BackendVcpu vcpu : vcpus) {
                    writers.add(vcpu.startRandomWrites(
                            new RandomWrites(GPA, PAGES, iteration, iteration * 31 + vcpu.id())).value());
                }
                RandomWriter first = writers.get(0);
                for (int h = 0; h < HARVESTS_WHILE_WRITING; h++) {
                    // Two more writes than now: the second began after the last harvest returned, so
                    // this harvest must report it (semantics section 4), and it overlaps the writers.
                    long now = first.writesSoFar();
                    Await.until("vCPU 0 wrote twice since the last harvest", () -> first.writesSoFar() >= now + 2);
                    reportedWhileWriting += harvestInto(vm, buffer, reported)[0];
                }
                for (RandomWriter w : writers) {
                    totalWrites += w.stop().value();
                }
                harvestInto(vm, buffer, reported);

                assertEquals(0, reported[(int) words - 1] >>> (PAGES % 64), "bits past npages");
                for (long p = 0; p < PAGES; p++) {
                    long value = memory.segment().get(ValueLayout.JAVA_LONG, p * KvmApi.PAGE_SIZE);
                    boolean isReported = (reported[(int) (p >>> 6)] & (1L << (p & 63))) != 0;
                    if (isReported) {
                        assertEquals(iteration, value, "page " + p + " reported but holds an old value (precision)");
                    } else {
                        assertTrue(value < iteration,
                                "page " + p + " holds iteration " + value + " but was never reported (lost write)");
                    }
                }
            }
            reporter.publishEntry("guest writes", Long.toString(totalWrites));
            reporter.publishEntry("pages reported by harvests during writing", Long.toString(reportedWhileWriting));
            assertTrue(totalWrites > ITERATIONS * VCPUS, "guests wrote " + totalWrites);
            assertTrue(reportedWhileWriting >= (long) ITERATIONS * HARVESTS_WHILE_WRITING,
                    "a harvest while the vCPUs wrote reported nothing: " + reportedWhileWriting);
        }
    }

    /** Harvests slot 0 and ORs its bits into {@code reported}; returns {bits set by this harvest}. */
    private static long[] harvestInto(BackendVm vm, UserMemory buffer, long[] reported) {
        assertEquals(IoctlResult.ok(0), vm.getDirtyLog(0, buffer.address()));
        MemorySegment bitmap = buffer.segment();
        long set = 0;
        for (int i = 0; i < reported.length; i++) {
            long word = bitmap.get(ValueLayout.JAVA_LONG, i * 8L);
            set += Long.bitCount(word);
            reported[i] |= word;
        }
        return new long[] {set};
    }

    @Test
    void threeConcurrentHarvestersTogetherMissNoWrite() throws InterruptedException {
        try (BackendVm vm = KvmDevice.newVm()) {
            UserMemory memory = vm.mmap(PAGES * KvmApi.PAGE_SIZE).value();
            vm.setUserMemoryRegion(new MemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, GPA, memory.length(),
                    memory.address())).value();
            List<BackendVcpu> vcpus = List.of(vm.createVcpu(0).value(), vm.createVcpu(1).value());
            int words = (int) (KvmApi.dirtyBitmapBytes(PAGES) / 8);
            List<UserMemory> buffers = new ArrayList<>();
            for (int h = 0; h < 3; h++) {
                buffers.add(vm.mmap(KvmApi.PAGE_SIZE).value());
            }
            for (long iteration = 1; iteration <= 50; iteration++) {
                long[][] reported = new long[buffers.size()][words];
                List<RandomWriter> writers = new ArrayList<>();
                for (BackendVcpu vcpu : vcpus) {
                    writers.add(vcpu.startRandomWrites(new RandomWrites(GPA, PAGES, iteration, iteration + 7L * vcpu.id())).value());
                }
                List<Thread> harvesters = new ArrayList<>();
                for (int h = 0; h < buffers.size(); h++) {
                    int id = h;
                    harvesters.add(Thread.ofPlatform().start(() -> {
                        for (int k = 0; k < 20; k++) {
                            harvestInto(vm, buffers.get(id), reported[id]);
                        }
                    }));
                }
                for (Thread t : harvesters) {
                    t.join();
                }
                for (RandomWriter w : writers) {
                    w.stop().value();
                }
                harvestInto(vm, buffers.get(0), reported[0]);
                for (long p = 0; p < PAGES; p++) {
                    long value = memory.segment().get(ValueLayout.JAVA_LONG, p * KvmApi.PAGE_SIZE);
                    boolean isReported = false;
                    for (long[] r : reported) {
                        isReported |= (r[(int) (p >>> 6)] & (1L << (p & 63))) != 0;
                    }
                    assertEquals(value == iteration, isReported, "page " + p + " holds " + value + " in iteration " + iteration);
                }
            }
        }
    }
}
