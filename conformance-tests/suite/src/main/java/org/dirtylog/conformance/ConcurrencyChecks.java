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
 * <p>Oracle, per round {@code i} (iteration number {@code i}): start every vCPU writing
 * {@code i} into random pages; let them run; read every page's first word ({@code pre});
 * harvest {@code h(i)} while they run; stop them; read every page again ({@code post}).
 * A final harvest follows the last round with the vCPUs stopped. Then:
 * <ul>
 * <li>{@code pre[p] == i} means a write of round {@code i} completed before {@code h(i)} was
 *     invoked, and no earlier harvest returned after it: {@code h(i)} must report {@code p}.</li>
 * <li>{@code post[p] == i} means round {@code i}'s last write to {@code p} completed before
 *     {@code h(i+1)} was invoked: {@code h(i)} or {@code h(i+1)} must report {@code p}.</li>
 * <li>Precision: {@code h(i)} reports only pages with {@code post[p]} in {@code {i-1, i}}.</li>
 * </ul>
 * No quiescent harvest separates the rounds: a write lost after a harvest that raced with a
 * fault (edde99ce) is only visible once a later round writes a new value into that page.
 */
final class ConcurrencyChecks {

    /** 2^10 + 3 pages: the last bitmap word is partial, as in the kernel's selftest. */
    static final long NPAGES = (1L << 10) + 3;

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long RUN_MILLIS = 30;
    private static final int ORACLE_ROUNDS = 12;
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

    private static void oracle(Scenario s, Harvester.Style style, boolean precision) {
        int vcpus = Math.min(s.caps().maxVcpus(), 4);
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        Harvester harvester = style.on(s, slot);
        int rounds = s.options().scaled(precision ? PRECISION_ROUNDS : ORACLE_ROUNDS);
        long[] prevPost = new long[(int) NPAGES];
        DirtyBitmap prevHarvest = DirtyBitmap.clean(NPAGES);
        long total = 0;
        for (int i = 1; i <= rounds; i++) {
            RandomWriter[] writers = new RandomWriter[vcpus];
            for (int v = 0; v < vcpus; v++) {
                writers[v] = s.startRandomWrites(v, new RandomWrites(slot.gpa(), NPAGES, i, s.random().nextLong()));
            }
            sleep(RUN_MILLIS);
            long[] pre = snapshot(slot);
            s.note("read every page's first word while the vCPUs run", "");
            DirtyBitmap h = harvester.harvest();
            checkPastEnd(h, i);
            sleep(RUN_MILLIS / 2);
            for (int v = 0; v < vcpus; v++) {
                total += s.stop(v, writers[v]);
            }
            long[] post = snapshot(slot);
            s.note("read every page's first word after the stop", "");
            if (precision) {
                checkPrecision(h, post, i, "h" + i + " (taken while round " + i + " ran)");
            } else {
                List<Long> lostBefore = new ArrayList<>();
                List<Long> lostAcross = new ArrayList<>();
                for (int p = 0; p < NPAGES; p++) {
                    if (pre[p] == i && !h.isSet(p)) {
                        lostBefore.add((long) p);
                    }
                    if (i > 1 && prevPost[p] == i - 1 && !prevHarvest.isSet(p) && !h.isSet(p)) {
                        lostAcross.add((long) p);
                    }
                }
                Scenario.expect(lostBefore.isEmpty(), "pages holding iteration " + i + " before h" + i + " was invoked",
                        "all reported by h" + i, "pages " + DirtyBitmap.abbreviate(lostBefore) + " not reported");
                Scenario.expect(lostAcross.isEmpty(), "pages holding iteration " + (i - 1) + " after round " + (i - 1),
                        "reported by h" + (i - 1) + " or h" + i, "pages " + DirtyBitmap.abbreviate(lostAcross)
                                + " reported by neither");
            }
            prevPost = post;
            prevHarvest = h;
        }
        DirtyBitmap last = harvester.harvest();
        checkPastEnd(last, rounds + 1);
        if (total == 0) {
            throw new BackendError("the vCPUs completed no write in " + rounds + " rounds of random writes");
        }
        if (precision) {
            List<Long> stale = new ArrayList<>();
            for (int p = 0; p < NPAGES; p++) {
                if (last.isSet(p) && prevPost[p] != rounds) {
                    stale.add((long) p);
                }
            }
            Scenario.expect(stale.isEmpty(), "final harvest with the vCPUs stopped",
                    "only pages written in round " + rounds, "also pages " + DirtyBitmap.abbreviate(stale));
        } else {
            List<Long> lost = new ArrayList<>();
            for (int p = 0; p < NPAGES; p++) {
                if (prevPost[p] == rounds && !prevHarvest.isSet(p) && !last.isSet(p)) {
                    lost.add((long) p);
                }
            }
            Scenario.expect(lost.isEmpty(), "pages holding iteration " + rounds + " after the last round",
                    "reported by h" + rounds + " or the final harvest", "pages " + DirtyBitmap.abbreviate(lost)
                            + " reported by neither");
        }
        s.note("total guest writes", String.valueOf(total));
        s.summarise(rounds + " rounds of " + vcpus + " vCPUs, " + total + " guest writes, " + (rounds + 1) + " harvests ("
                + style.name() + ")");
    }

    private static void checkPrecision(DirtyBitmap h, long[] post, int i, String which) {
        List<Long> stale = new ArrayList<>();
        for (int p = 0; p < NPAGES; p++) {
            if (h.isSet(p) && post[p] != i && post[p] != i - 1) {
                stale.add((long) p);
            }
        }
        Scenario.expect(stale.isEmpty(), which, "only pages written in round " + (i - 1) + " or " + i,
                "also pages " + DirtyBitmap.abbreviate(stale) + " (last written earlier or never)");
    }

    private static void checkPastEnd(DirtyBitmap h, int i) {
        Scenario.expect(h.bitsPastEnd().isEmpty(), "harvest " + i, "no bit past npages " + NPAGES,
                "bits " + DirtyBitmap.abbreviate(h.bitsPastEnd()));
    }

    private static long[] snapshot(Scenario.Slot slot) {
        long[] values = new long[(int) slot.npages()];
        for (int p = 0; p < values.length; p++) {
            values[p] = slot.memory().segment().get(LE_LONG, p * KvmApi.PAGE_SIZE);
        }
        return values;
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
