package org.dirtylog.conformance;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.RandomWriter;
import org.dirtylog.spi.RandomWrites;

/**
 * The concurrency rules: the selftest oracle of the semantics note §4 for both harvest styles,
 * its precision half, and concurrent writes into one bitmap word.
 *
 * <p>The oracle runs iterations {@code i = 1, 2, ...}: every vCPU stores {@code i} into the
 * first word of random pages of a 2^10 + 3 page slot between {@code start(i)} and
 * {@code stop(i)}; a harvest runs while they write; every page's first word is read before and
 * after each harvest and after each stop. Iterations never overlap, so when two reads of a page
 * see different values, a write of the later value completed between them (and inside its
 * iteration's window). By the definition of §4 such a write must be reported by the first
 * harvest invoked after it completed, or by an earlier one that returned after it: if every
 * harvest that could be that one misses the page, a write was lost. The check is sound for any
 * schedule; the schedule is chosen so that each historical race has a chance to show:
 * <ul>
 * <li>long iterations (write, harvest while writing, write on, stop) follow each other without a
 *     harvest in between, so a page left writable but unlogged by a racy harvest (edde99ce, no
 *     grace period) is written with a new value before the next harvest and missed by it;</li>
 * <li>every third iteration is short (start, harvest at once, stop) and followed by a harvest
 *     with the vCPUs stopped, so a store still in flight when a harvest returned (6dbf79e7) is
 *     not covered by a later write to the same page.</li>
 * </ul>
 * Precision (a SHOULD): a page a harvest reports whose value did not change since before the
 * previous harvest, and whose iteration's writes ended before that harvest began, was not
 * written since then.
 */
final class ConcurrencyChecks {

    /** 2^10 + 3 pages: the last bitmap word is partial, as in the kernel's selftest. */
    static final long NPAGES = (1L << 10) + 3;

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long RUN_MILLIS = 30;
    private static final int ORACLE_ROUNDS = 15;
    private static final int PRECISION_ROUNDS = 6;
    private static final int WORD_ROUNDS = 20;

    private ConcurrencyChecks() {
    }

    @Checks("RACE-01")
    static void noLostWriteWithSwitchDirtyLog(Scenario s) {
        oracle(s, Harvester.Style.SWITCH, false);
    }

    @Checks("RACE-02")
    static void noLostWriteWithGetDirtyLog(Scenario s) {
        oracle(s, Harvester.Style.GET, false);
    }

    @Checks("PREC-01")
    static void harvestsReportOnlyRecentWrites(Scenario s) {
        oracle(s, Harvester.Style.GET, true);
    }

    @Checks("RACE-03")
    static void concurrentWritesToOneWordAreAllReported(Scenario s) throws Exception {
        int vcpus = Math.min(s.caps().maxVcpus(), 4);
        long npages = (1L << 8) + 3;
        Scenario.Slot slot = s.createSlot(npages, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        for (int v = 0; v < vcpus; v++) {
            s.vcpu(v);
        }
        ExecutorService pool = Executors.newFixedThreadPool(vcpus, r -> {
            Thread t = new Thread(r, "dirtylog-race03");
            t.setDaemon(true);
            return t;
        });
        try {
            int rounds = s.options().scaled(WORD_ROUNDS);
            for (int round = 1; round <= rounds; round++) {
                CountDownLatch go = new CountDownLatch(1);
                List<Future<IoctlResult<Integer>>> runs = new ArrayList<>();
                for (int v = 0; v < vcpus; v++) {
                    int vcpu = v;
                    List<GuestWrite> writes = new ArrayList<>();
                    // vCPU v takes pages v, v + n, v + 2n, ...: every 64-page word is shared by all vCPUs.
                    for (long p = v; p < npages; p += vcpus) {
                        writes.add(new GuestWrite(slot.gpaOf(p), round));
                    }
                    runs.add(pool.submit(() -> {
                        go.await();
                        return s.runWrites(vcpu, writes, "every " + vcpus + "th page from page " + vcpu);
                    }));
                }
                go.countDown();
                for (int v = 0; v < vcpus; v++) {
                    IoctlResult<Integer> r = runs.get(v).get(30, TimeUnit.SECONDS);
                    if (!r.isOk()) {
                        throw new BackendError("vcpu" + v + " failed guest writes inside the slot: " + Scenario.show(r));
                    }
                }
                DirtyBitmap got = s.getDirtyLog(slot);
                List<Long> missing = new ArrayList<>();
                for (long p = 0; p < npages; p++) {
                    if (!got.isSet(p)) {
                        missing.add(p);
                    }
                }
                Scenario.expect(missing.isEmpty() && got.bitsPastEnd().isEmpty(),
                        "GET after " + vcpus + " vCPUs wrote all " + npages + " pages at once (round " + round + ")",
                        "every page reported", "pages " + DirtyBitmap.abbreviate(missing) + " missing"
                                + (got.bitsPastEnd().isEmpty() ? "" : ", bits past npages " + got.bitsPastEnd()));
            }
            s.summarise(rounds + " rounds of " + vcpus + " vCPUs writing all " + npages + " pages at once");
        } finally {
            pool.shutdownNow();
        }
    }

    /** A read of every page's first word, taken between {@code begin} and {@code end} (nanoTime). */
    private record Snapshot(String when, long begin, long end, long[] values) {
    }

    /** A harvest invoked at or after {@code begin} that returned at or before {@code end}. */
    private record Harvest(String name, long begin, long end, DirtyBitmap bitmap) {
    }

    private static void oracle(Scenario s, Harvester.Style style, boolean precision) {
        int vcpus = Math.min(s.caps().maxVcpus(), 4);
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        Harvester harvester = style.on(s, slot);
        int iterations = 3 * s.options().scaled((precision ? PRECISION_ROUNDS : ORACLE_ROUNDS) / 3);
        long[] startTime = new long[iterations + 1];
        long[] stopTime = new long[iterations + 1];
        List<Snapshot> snapshots = new ArrayList<>();
        List<Harvest> harvests = new ArrayList<>();
        snapshots.add(snapshot(s, slot, "before any write"));
        long total = 0;
        for (int i = 1; i <= iterations; i++) {
            boolean shortOne = i % 3 == 0;
            startTime[i] = System.nanoTime();
            RandomWriter[] writers = new RandomWriter[vcpus];
            for (int v = 0; v < vcpus; v++) {
                writers[v] = s.startRandomWrites(v, new RandomWrites(slot.gpa(), NPAGES, i, s.random().nextLong()));
            }
            if (!shortOne) {
                sleep(RUN_MILLIS);
            }
            snapshots.add(snapshot(s, slot, "before h" + i));
            harvests.add(harvest(s, harvester, "h" + i));
            snapshots.add(snapshot(s, slot, "after h" + i));
            if (!shortOne) {
                sleep(RUN_MILLIS / 2);
            }
            for (int v = 0; v < vcpus; v++) {
                total += s.stop(v, writers[v]);
            }
            stopTime[i] = System.nanoTime();
            snapshots.add(snapshot(s, slot, "after stopping iteration " + i));
            if (shortOne || i == iterations) {
                harvests.add(harvest(s, harvester, "q" + i));
            }
        }
        if (total == 0) {
            throw new BackendError("the vCPUs completed no write in " + iterations + " iterations of random writes");
        }
        if (precision) {
            checkPrecision(snapshots, harvests, stopTime);
        } else {
            checkNoLostWrite(snapshots, harvests, startTime, stopTime);
        }
        s.summarise(iterations + " iterations of " + vcpus + " vCPUs, " + total + " guest writes, " + harvests.size()
                + " harvests (" + style.name() + ")");
    }

    private static Harvest harvest(Scenario s, Harvester harvester, String name) {
        long begin = System.nanoTime();
        DirtyBitmap bitmap = harvester.harvest();
        long end = System.nanoTime();
        Scenario.expect(bitmap.bitsPastEnd().isEmpty(), "harvest " + name, "no bit past npages " + NPAGES,
                "bits " + DirtyBitmap.abbreviate(bitmap.bitsPastEnd()));
        return new Harvest(name, begin, end, bitmap);
    }

    private static void checkNoLostWrite(List<Snapshot> snapshots, List<Harvest> harvests, long[] startTime,
                                         long[] stopTime) {
        List<String> lost = new ArrayList<>();
        int count = 0;
        for (int p = 0; p < NPAGES; p++) {
            for (int a = 0; a + 1 < snapshots.size(); a++) {
                long before = snapshots.get(a).values()[p];
                int value = (int) snapshots.get(a + 1).values()[p];
                if (value == before) {
                    continue;
                }
                // A write of `value` completed in (lo, hi]; see the class comment for why it is this write.
                long lo = Math.max(snapshots.get(a).begin(), startTime[value]);
                long hi = Math.min(snapshots.get(a + 1).end(), stopTime[value]);
                int first = 0;
                while (first < harvests.size() && harvests.get(first).begin() <= hi) {
                    first++;
                }
                boolean reported = false;
                List<String> could = new ArrayList<>();
                for (int m = 0; m <= Math.min(first, harvests.size() - 1); m++) {
                    Harvest h = harvests.get(m);
                    if (h.end() > lo) {
                        could.add(h.name());
                        reported |= h.bitmap().isSet(p);
                    }
                }
                if (!reported) {
                    count++;
                    if (lost.size() < 5) {
                        lost.add("page " + p + ": iteration " + value + " written between the reads "
                                + snapshots.get(a).when() + " and " + snapshots.get(a + 1).when() + ", reported by none of "
                                + could);
                    }
                }
            }
        }
        Scenario.expect(lost.isEmpty(), "writes completed before a harvest was invoked",
                "each reported by that harvest or an earlier one that returned after it",
                count + " lost, e.g. " + String.join("; ", lost));
    }

    private static void checkPrecision(List<Snapshot> snapshots, List<Harvest> harvests, long[] stopTime) {
        List<String> stale = new ArrayList<>();
        int count = 0;
        for (int k = 0; k < harvests.size(); k++) {
            Harvest h = harvests.get(k);
            long since = k == 0 ? Long.MIN_VALUE : harvests.get(k - 1).begin();
            Snapshot before = snapshots.get(0);
            Snapshot after = null;
            for (Snapshot snap : snapshots) {
                if (k > 0 && snap.end() < since) {
                    before = snap;
                }
                if (after == null && snap.begin() > h.end()) {
                    after = snap;
                }
            }
            if (after == null) {
                continue;
            }
            for (long p : h.bitmap().pages()) {
                long v = before.values()[(int) p];
                boolean quiet = v == after.values()[(int) p] && (v == 0 || stopTime[(int) v] < since);
                if (quiet) {
                    count++;
                    if (stale.size() < 5) {
                        stale.add("page " + p + " by " + h.name() + (v == 0 ? " (never written)"
                                : " (last written in iteration " + v + ", before " + harvests.get(k - 1).name() + " began)"));
                    }
                }
            }
        }
        Scenario.expect(stale.isEmpty(), "pages reported by a harvest", "only pages written since the previous harvest began",
                count + " reported without such a write, e.g. " + String.join("; ", stale));
    }

    private static Snapshot snapshot(Scenario s, Scenario.Slot slot, String when) {
        long begin = System.nanoTime();
        long[] values = new long[(int) slot.npages()];
        for (int p = 0; p < values.length; p++) {
            values[p] = slot.memory().segment().get(LE_LONG, p * KvmApi.PAGE_SIZE);
        }
        long end = System.nanoTime();
        s.note("read every page's first word " + when, "");
        return new Snapshot(when, begin, end, values);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendError("interrupted (the rule timed out)");
        }
    }
}
