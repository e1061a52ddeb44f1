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
import java.util.concurrent.locks.LockSupport;
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
 * first word of random pages of a 2^11 + 3 page slot between {@code start(i)} and
 * {@code stop(i)}; a harvest runs while they write; every page's first word is read before and
 * after each harvest and after each stop. Iterations never overlap, so when two reads of a page
 * see different values, a write of the later value completed between them (and inside its
 * iteration's window). By the definition of §4 such a write must be reported by the first
 * harvest invoked after it completed, or by an earlier one that returned after it: if every
 * harvest that could be that one misses the page, a write was lost. The check is sound for any
 * schedule; the schedule ({@link Kind}) is chosen so that each historical race has a chance to
 * show:
 * <ul>
 * <li>long iterations follow each other without a harvest in between, so a page a racy
 *     harvest left writable but unlogged (edde99ce, no grace period) is written with a new
 *     value before the next harvest, which then misses it;</li>
 * <li>a priming iteration without a harvest leaves pages writable with its value; the short
 *     iteration after it harvests at once, so a store of the new value still in flight when the
 *     harvest returned (6dbf79e7) shows up in the read taken the moment it returned, and the
 *     harvest with the vCPUs stopped that closes the iteration must report it.</li>
 * </ul>
 * Precision (a SHOULD): a page a harvest reports whose value did not change since before the
 * previous harvest, and whose iteration's writes ended before that harvest began, was not
 * written since then.
 */
final class ConcurrencyChecks {

    /** 2^11 + 3 pages: the last bitmap word is partial, as in the kernel's selftest. */
    static final long NPAGES = (1L << 11) + 3;

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** How long the vCPUs write before a long iteration's harvests: short, so few pages are written twice in between. */
    private static final long RUN_MICROS = 1500;
    private static final int ORACLE_ROUNDS = 42;
    /** How long a priming iteration writes: long enough to leave most pages writable. */
    private static final long PRIME_MICROS = 10_000;
    private static final int PRECISION_ROUNDS = 12;
    /**
     * Harvests back to back in a long iteration: the first write-protects every page, so the
     * vCPUs fault while the next ones run, which is when an in-place swap without a grace
     * period loses a bit.
     */
    private static final int BURST = 3;

    /** The iteration schedule, repeated in this order. */
    private enum Kind {
        /** Write, a burst of harvests while writing, write on, stop; no harvest before the next iteration. */
        LONG,
        /** A second long iteration: it writes new values into pages the previous harvest left unlogged. */
        LONG_AGAIN,
        /** Write without a harvest, so pages become writable holding this iteration's value. */
        PRIME,
        /** Start, harvest at once, stop, then harvest with the vCPUs stopped. */
        SHORT,
        /** Priming again: the in-flight race gets a second chance per cycle. */
        PRIME_AGAIN,
        /** Short again. */
        SHORT_AGAIN
    }
    private static final int WORD_ROUNDS = 20;

    private ConcurrencyChecks() {
    }

    static void noLostWriteWithSwitchDirtyLog(Scenario s) {
        oracle(s, Harvester.Style.SWITCH, false);
    }

    static void noLostWriteWithGetDirtyLog(Scenario s) {
        oracle(s, Harvester.Style.GET, false);
    }

    static void noLostWriteWithTheDirtyRing(Scenario s) {
        oracle(s, Harvester.Style.RING, false);
    }

    static void harvestsReportOnlyRecentWrites(Scenario s) {
        oracle(s, Harvester.Style.GET, true);
    }

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
                        throw new BackendError("vcpu" + v + " failed guest writes inside the slot: " + CallText.show(r));
                    }
                }
                UserBitmap got = s.getDirtyLog(slot);
                List<Long> missing = new ArrayList<>();
                for (long p = 0; p < npages; p++) {
                    if (!got.isSet(p)) {
                        missing.add(p);
                    }
                }
                Expect.that(missing.isEmpty() && got.bitsPastEnd().isEmpty(),
                        "GET after " + vcpus + " vCPUs wrote all " + npages + " pages at once (round " + round + ")",
                        "every page reported", "pages " + UserBitmap.abbreviate(missing) + " missing"
                                + (got.bitsPastEnd().isEmpty() ? "" : ", bits past npages " + got.bitsPastEnd()));
            }
            s.recorder().summarise(rounds + " rounds of " + vcpus + " vCPUs writing all " + npages + " pages at once");
        } finally {
            pool.shutdownNow();
        }
    }

    /** A read of every page's first word, taken between {@code begin} and {@code end} (nanoTime). */
    private record Snapshot(String when, long begin, long end, long[] values) {
    }

    /** A harvest invoked at or after {@code begin} that returned at or before {@code end}. */
    private record Harvest(String name, long begin, long end, UserBitmap bitmap) {
    }

    private static void oracle(Scenario s, Harvester.Style style, boolean precision) {
        int vcpus = Math.min(s.caps().maxVcpus(), 4);
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        Harvester harvester = style.on(s, slot);
        int cycle = Kind.values().length;
        int iterations = cycle * s.options().scaled((precision ? PRECISION_ROUNDS : ORACLE_ROUNDS) / cycle);
        long[] startTime = new long[iterations + 1];
        long[] stopTime = new long[iterations + 1];
        List<Snapshot> snapshots = new ArrayList<>();
        List<Harvest> harvests = new ArrayList<>();
        snapshots.add(snapshot(s, slot, "before any write"));
        long total = 0;
        for (int i = 1; i <= iterations; i++) {
            Kind kind = switch (Kind.values()[(i - 1) % Kind.values().length]) {
                case LONG_AGAIN -> Kind.LONG;
                case PRIME_AGAIN -> Kind.PRIME;
                case SHORT_AGAIN -> Kind.SHORT;
                default -> Kind.values()[(i - 1) % Kind.values().length];
            };
            startTime[i] = System.nanoTime();
            RandomWriter[] writers = new RandomWriter[vcpus];
            for (int v = 0; v < vcpus; v++) {
                writers[v] = s.startRandomWrites(v, new RandomWrites(slot.gpa(), NPAGES, i, s.random().nextLong()));
            }
            if (kind != Kind.SHORT) {
                sleep(kind == Kind.PRIME ? PRIME_MICROS : RUN_MICROS);
            }
            if (kind != Kind.PRIME) {
                snapshots.add(snapshot(s, slot, "before h" + i));
                int burst = kind == Kind.SHORT ? 1 : BURST;
                for (int b = 0; b < burst; b++) {
                    String name = "h" + i + (burst > 1 ? Character.toString('a' + b) : "");
                    harvest(s, slot, harvester, name, "after " + name, snapshots, harvests);
                }
            }
            if (kind == Kind.LONG) {
                sleep(RUN_MICROS / 2);
            }
            for (int v = 0; v < vcpus; v++) {
                total += s.stop(v, writers[v]);
            }
            stopTime[i] = System.nanoTime();
            snapshots.add(snapshot(s, slot, "after stopping iteration " + i));
            if (kind == Kind.SHORT || i == iterations) {
                harvest(s, slot, harvester, "q" + i, "after q" + i, snapshots, harvests);
            }
        }
        if (total == 0) {
            throw new BackendError("the vCPUs completed no write in " + iterations + " iterations of random writes");
        }
        if (precision) {
            checkPrecision(snapshots, harvests, stopTime);
        } else {
            checkNoLostWrite(snapshots, harvests, startTime, stopTime, harvester);
        }
        s.recorder().summarise(iterations + " iterations of " + vcpus + " vCPUs, " + total + " guest writes, " + harvests.size()
                + " harvests (" + style.name() + ")");
    }

    /**
     * Runs a harvest and reads every page right when it returns, before anything is recorded:
     * a store landing after the harvest returned is then seen as a change after it.
     */
    private static void harvest(Scenario s, Scenario.Slot slot, Harvester harvester, String name, String after,
                                List<Snapshot> snapshots, List<Harvest> harvests) {
        long[] end = new long[1];
        Snapshot[] read = new Snapshot[1];
        long begin = System.nanoTime();
        UserBitmap bitmap = harvester.harvest(() -> {
            end[0] = System.nanoTime();
            read[0] = read(slot, after);
        });
        s.recorder().note("read every page's first word " + after, "");
        Expect.that(bitmap.bitsPastEnd().isEmpty(), "harvest " + name, "no bit past npages " + NPAGES,
                "bits " + UserBitmap.abbreviate(bitmap.bitsPastEnd()));
        harvests.add(new Harvest(name, begin, end[0], bitmap));
        snapshots.add(read[0]);
    }

    private static void checkNoLostWrite(List<Snapshot> snapshots, List<Harvest> harvests, long[] startTime,
                                         long[] stopTime, Harvester harvester) {
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
                        String more = harvester.explain(p);
                        lost.add("page " + p + ": iteration " + value + " written between the reads "
                                + snapshots.get(a).when() + " and " + snapshots.get(a + 1).when() + ", reported by none of "
                                + could + (more.isEmpty() ? "" : " (" + more + ")"));
                    }
                }
            }
        }
        Expect.that(lost.isEmpty(), "writes completed before a harvest was invoked",
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
        Expect.that(stale.isEmpty(), "pages reported by a harvest", "only pages written since the previous harvest began",
                count + " reported without such a write, e.g. " + String.join("; ", stale));
    }

    private static Snapshot snapshot(Scenario s, Scenario.Slot slot, String when) {
        Snapshot snap = read(slot, when);
        s.recorder().note("read every page's first word " + when, "");
        return snap;
    }

    private static Snapshot read(Scenario.Slot slot, String when) {
        long begin = System.nanoTime();
        long[] values = new long[(int) slot.npages()];
        for (int p = 0; p < values.length; p++) {
            values[p] = slot.memory().segment().get(LE_LONG, p * KvmApi.PAGE_SIZE);
        }
        return new Snapshot(when, begin, System.nanoTime(), values);
    }

    private static void sleep(long micros) {
        long end = System.nanoTime() + micros * 1000;
        for (long left = micros * 1000; left > 0; left = end - System.nanoTime()) {
            LockSupport.parkNanos(left);
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new BackendError("interrupted (the rule timed out)");
            }
        }
    }
}
