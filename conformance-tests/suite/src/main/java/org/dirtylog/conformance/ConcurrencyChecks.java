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
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.RandomWriter;
import org.dirtylog.spi.RandomWrites;

/**
 * The concurrency rules: no lost write for every harvest style ({@link Harvester.Style}: GET,
 * SWITCH, and GET then CLEAR of what GET returned), its precision half, concurrent writes
 * into one bitmap word, and two logged slots harvested in turn.
 *
 * <p>Every race rule runs with the vCPUs the backend has (up to four; one vCPU racing the
 * harvester is a race too) and needs nothing but guest writes and a harvest ioctl: its main
 * part is {@link SparsePhases}, where kit threads hand the vCPUs batches of writes of distinct
 * values and the oracle judges every single write (its class comment gives the soundness
 * argument). While they run, the kit's perturbation agent, when attached, injects seeded noise
 * into the backend's bytecode ({@link Perturbation}).
 *
 * <p>A backend that also has the random-writing guest gets, in RACE-01 and RACE-02, the
 * kernel selftest's oracle as well: iterations {@code i = 1, 2, ...}: every vCPU stores
 * {@code i} into the first word of random pages of a 2^11 + 3 page slot between {@code start(i)}
 * and {@code stop(i)}; a harvest runs while they write; every page's first word is read before
 * and after each harvest and after each stop. Iterations never overlap, so when two reads of a
 * page see different values, a write of the later value completed between them (and inside its
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
 */
final class ConcurrencyChecks {

    /** 2^11 + 3 pages: the last bitmap word is partial, as in the kernel's selftest. */
    static final long NPAGES = (1L << 11) + 3;
    /**
     * Pages of the sparse phases' slot: 2^15 + 3, so the last word is partial and the page
     * supply outlasts a default run (each vCPU owns a quarter and writes each page once before
     * it rewrites settled ones); a smaller guest window gets 2^13 + 3 or 2^11 + 3.
     */
    static final long[] SPARSE_NPAGES = {(1L << 15) + 3, (1L << 13) + 3, (1L << 11) + 3};
    /** Pages of each slot of the two-slot rule. */
    static final long[] TWO_SLOT_NPAGES = {(1L << 13) + 3, (1L << 11) + 3};
    /**
     * The sparse phases of RACE-01, RACE-02 and PREC-01 at effort 1: 4 phases (each perturbs
     * another side, see {@link Perturbation.Threads}) of at least 30 harvests and 4000 writes
     * (measured: 10,000 to 90,000 judged writes on the reference, independent and linux-kvm
     * backends; linux-kvm, at about 50,000 guest writes a second, is the one the write
     * minimum is for). The
     * effort scales the harvests and writes per phase, not the judged-write minimum: fewer than
     * 5000 (about six harvests' worth) makes the run go on phase by phase (a loaded machine
     * judges fewer writes per phase), and fewer than 5000 after {@link SparsePhases#MAX_PHASES_FACTOR}
     * times the phases is an ERROR, so a run cut down too far cannot PASS.
     */
    private static final SparsePhases.Budget SPARSE = new SparsePhases.Budget(4, 30, 4000, 5000);
    /** The two-slot rule: more harvests, as each covers one of two slots. */
    private static final SparsePhases.Budget TWO_SLOTS = new SparsePhases.Budget(4, 40, 4000, 5000);
    /** Most vCPUs a race rule drives: more only add threads on the kit's side. */
    private static final int MAX_VCPUS = 4;

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** How long the vCPUs write before a long iteration's harvests: short, so few pages are written twice in between. */
    private static final long RUN_MICROS = 1500;
    private static final int ORACLE_ROUNDS = 42;
    /** How long a priming iteration writes: long enough to leave most pages writable. */
    private static final long PRIME_MICROS = 10_000;
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
        noLostWrite(s, Harvester.Style.SWITCH);
    }

    static void noLostWriteWithGetDirtyLog(Scenario s) {
        noLostWrite(s, Harvester.Style.GET);
    }

    /**
     * RING-13: the selftest oracle with ring harvests. It keeps the random-writing guest (the
     * ring rules need it anyway): a kit-driven batch of writes on a vCPU whose ring fills would
     * end in a DIRTY_RING_FULL exit the sparse phases do not resume.
     */
    static void noLostWriteWithTheDirtyRing(Scenario s) {
        long[] dense = oracle(s, Harvester.Style.RING);
        s.recorder().summarise(vcpus(s) + " vCPUs (the backend's random-writing guest), " + dense[0] + " guest writes, "
                + dense[1] + " harvests (RING); " + s.perturbation().settings().describe());
    }

    static void harvestsReportOnlyRecentWrites(Scenario s) {
        Scenario.Slot slot = sparseSlot(s, SPARSE_NPAGES, 0);
        SparsePhases.Outcome o = sparse(s, List.of(new SparsePhases.Target(slot, Harvester.Style.GET.on(s, slot),
                Harvester.Style.GET)), SPARSE);
        Concurrency c = covered(s, o, 0, 0, "GET", SPARSE, false);
        Expect.that(o.staleCount() == 0, "pages reported by a harvest", "only pages written since the previous harvest of "
                + "the slot began", o.staleCount() + " reported without such a write, e.g. " + String.join("; ", o.stale()));
        requireCoverage(c);
    }

    /**
     * Two logged slots, the lowest free id and the highest ({@code KVM_CAP_NR_MEMSLOTS - 1}),
     * each harvested in a style drawn from the seed, in a seeded order, while the vCPUs write
     * both: a harvest of one slot must neither clear the other's log nor leave its pages
     * writable and unlogged, so every write to either is reported.
     */
    static void harvestingOneSlotLeavesTheOtherLogged(Scenario s) {
        int highest = s.nrMemslots() - 1;
        if (highest < 1) {
            throw new NotApplicable("KVM_CAP_NR_MEMSLOTS is " + (highest + 1) + ": two slots do not fit");
        }
        List<Harvester.Style> styles = new ArrayList<>();
        for (Harvester.Style style : Harvester.Style.values()) {
            // GET+CLEAR and the ring put the whole VM in a mode (manual protect; ring mode, where
            // GET is -ENXIO) that the other slot's style would not work in; RACE-04 draws among the
            // styles that leave the VM as it is.
            if (s.has(style.needs()) && style != Harvester.Style.GET_CLEAR && style != Harvester.Style.RING) {
                styles.add(style);
            }
        }
        if (styles.isEmpty()) {
            throw new NotApplicable("needs KVM_GET_DIRTY_LOG or KVM_SWITCH_DIRTY_LOG, and the backend declares neither");
        }
        Scenario.Slot low = sparseSlot(s, TWO_SLOT_NPAGES, 0);
        Scenario.Slot high = sparseSlot(s, TWO_SLOT_NPAGES, highest);
        List<SparsePhases.Target> targets = new ArrayList<>();
        StringBuilder styleText = new StringBuilder();
        for (Scenario.Slot slot : List.of(low, high)) {
            Harvester.Style style = styles.get(s.random().nextInt(styles.size()));
            targets.add(new SparsePhases.Target(slot, style.on(s, slot), style));
            styleText.append(styleText.isEmpty() ? "" : ", ").append("slot ").append(slot.id()).append(' ').append(style);
        }
        SparsePhases.Outcome o = sparse(s, targets, TWO_SLOTS);
        Concurrency c = covered(s, o, 0, 0, styleText.toString(), TWO_SLOTS, false);
        Expect.that(o.lostCount() == 0, "writes to slots " + low.id() + " and " + highest + " while both were harvested in turn",
                "each reported by the harvest of its slot that had to report it",
                o.lostCount() + " of " + o.writes() + " lost, e.g. " + String.join("; ", o.lost()));
        requireCoverage(c);
    }

    private static void noLostWrite(Scenario s, Harvester.Style style) {
        style.prepare(s);
        Scenario.Slot slot = sparseSlot(s, SPARSE_NPAGES, 0);
        SparsePhases.Outcome o = sparse(s, List.of(new SparsePhases.Target(slot, style.on(s, slot), style)), SPARSE);
        Concurrency sparseOnly = covered(s, o, 0, 0, style.label(), SPARSE, false);
        Expect.that(o.lostCount() == 0, "writes of distinct values completed while the kit harvested with " + style.label(),
                "each reported by the first harvest invoked after it completed, or an earlier one that returned after",
                o.lostCount() + " of " + o.writes() + " lost, e.g. " + String.join("; ", o.lost()));
        requireCoverage(sparseOnly);
        if (s.has(Capability.RANDOM_WRITES)) {
            long[] dense = oracle(s, style);
            covered(s, o, dense[0], dense[1], style.label(), SPARSE, true);
        }
    }

    /** Returns a logged slot of the first size in {@code sizes} that fits the backend's window, with id {@code id} (0: next free). */
    private static Scenario.Slot sparseSlot(Scenario s, long[] sizes, int id) {
        for (long npages : sizes) {
            if (s.layout().fits(npages * KvmApi.PAGE_SIZE) || npages == sizes[sizes.length - 1]) {
                return id == 0 ? s.createSlot(npages, KvmApi.KVM_MEM_LOG_DIRTY_PAGES)
                        : s.createSlot(id, npages, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
            }
        }
        throw new IllegalStateException("no slot size");
    }

    private static int vcpus(Scenario s) {
        return Math.min(s.caps().maxVcpus(), MAX_VCPUS);
    }

    private static SparsePhases.Outcome sparse(Scenario s, List<SparsePhases.Target> targets, SparsePhases.Budget budget) {
        SparsePhases.Budget scaled = new SparsePhases.Budget(budget.phases(), s.options().scaled(budget.harvestsPerPhase()),
                s.options().scaled(budget.writesPerPhase()), budget.minObservations());
        s.perturbation().on();
        try {
            return new SparsePhases(s, targets, vcpus(s), scaled).run();
        } finally {
            s.perturbation().off();
        }
    }

    /** Records what the rule covered (the sparse outcome plus {@code denseWrites} and {@code denseHarvests} of the selftest oracle). */
    private static Concurrency covered(Scenario s, SparsePhases.Outcome o, long denseWrites, long denseHarvests, String styles,
                                       SparsePhases.Budget budget, boolean withRandom) {
        String writers = "kit threads, batches of " + SparsePhases.MIN_BATCH + "-" + SparsePhases.MAX_BATCH + " writes"
                + (withRandom ? "; then the backend's random-writing guest" : "");
        Concurrency c = new Concurrency(o.vcpus(), writers, o.writes() + denseWrites, o.harvests() + denseHarvests, styles,
                o.observations(), budget.minObservations(), s.perturbation().settings());
        s.recorder().concurrency(c);
        s.recorder().summarise(c.describe());
        return c;
    }

    /** Ends the rule with an ERROR when the writes it could judge are too few to trust a PASS. */
    private static void requireCoverage(Concurrency c) {
        if (c.observations() < c.minObservations()) {
            throw new BackendError("insufficient coverage: " + c.observations() + " writes could be judged against a harvest "
                    + "that ran while vCPUs wrote, " + c.minObservations() + " required (" + c.describe() + ")");
        }
    }

    static void noLostWriteWithGetAndClear(Scenario s) {
        noLostWrite(s, Harvester.Style.GET_CLEAR);
    }

    /**
     * PREC-01 for GET+CLEAR. Under {@code KVM_DIRTY_LOG_INITIALLY_SET} every page starts dirty,
     * so the first harvest of the slot may report pages nobody wrote: dirty_log_test's allowance,
     * by name; nothing else is excused.
     */
    static void getAndClearReportOnlyRecentWrites(Scenario s) {
        Harvester.Style style = Harvester.Style.GET_CLEAR;
        style.prepare(s);
        boolean initiallySet = s.has(Capability.DIRTY_LOG_INITIALLY_SET);
        Scenario.Slot slot = sparseSlot(s, SPARSE_NPAGES, 0);
        SparsePhases.Outcome o = sparse(s, List.of(new SparsePhases.Target(slot, style.on(s, slot), style, initiallySet)), SPARSE);
        Concurrency c = covered(s, o, 0, 0, style.label() + (initiallySet ? ", INITIALLY_SET" : ""), SPARSE, false);
        Expect.that(o.staleCount() == 0, "pages reported by a harvest", "only pages written since the previous harvest of "
                + "the slot began" + (initiallySet ? " (the slot's first harvest excepted: INITIALLY_SET)" : ""),
                o.staleCount() + " reported without such a write, e.g. " + String.join("; ", o.stale()));
        requireCoverage(c);
    }

    static void concurrentWritesToOneWordAreAllReported(Scenario s) throws Exception {
        if (!s.has(Capability.GET_DIRTY_LOG) && !s.has(Capability.USER_DIRTY_LOG)) {
            throw new NotApplicable("needs KVM_GET_DIRTY_LOG or KVM_SWITCH_DIRTY_LOG, and the backend declares neither");
        }
        int vcpus = vcpus(s);
        Harvester.Style style = Harvester.Style.preferred(s);
        long npages = (1L << 8) + 3;
        Scenario.Slot slot = s.createSlot(npages, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        Harvester harvester = style.on(s, slot);
        for (int v = 0; v < vcpus; v++) {
            s.vcpu(v);
        }
        ExecutorService pool = Executors.newFixedThreadPool(vcpus, r -> {
            Thread t = new Thread(r, "dirtylog-race03");
            t.setDaemon(true);
            return t;
        });
        s.perturbation().on();
        try {
            int rounds = s.options().scaled(WORD_ROUNDS);
            long writes = 0;
            for (int round = 1; round <= rounds; round++) {
                CountDownLatch go = new CountDownLatch(1);
                List<Future<IoctlResult<Integer>>> runs = new ArrayList<>();
                for (int v = 0; v < vcpus; v++) {
                    int vcpu = v;
                    List<GuestWrite> writes1 = new ArrayList<>();
                    // vCPU v takes pages v, v + n, v + 2n, ...: every 64-page word is shared by all vCPUs.
                    for (long p = v; p < npages; p += vcpus) {
                        writes1.add(new GuestWrite(slot.gpaOf(p), ((long) round << 32) | p));
                    }
                    runs.add(pool.submit(() -> {
                        go.await();
                        return s.runWrites(vcpu, writes1, "every " + vcpus + "th page from page " + vcpu);
                    }));
                }
                go.countDown();
                for (int v = 0; v < vcpus; v++) {
                    IoctlResult<Integer> r = runs.get(v).get(30, TimeUnit.SECONDS);
                    if (!r.isOk()) {
                        throw new BackendError("vcpu" + v + " failed guest writes inside the slot: " + CallText.show(r));
                    }
                }
                writes += npages;
                UserBitmap got = harvester.harvest();
                List<Long> missing = new ArrayList<>();
                for (long p = 0; p < npages; p++) {
                    if (!got.isSet(p)) {
                        missing.add(p);
                    }
                }
                Expect.that(missing.isEmpty() && got.bitsPastEnd().isEmpty(),
                        style + " after " + vcpus + " vCPUs wrote all " + npages + " pages at once (round " + round + ")",
                        "every page reported", "pages " + UserBitmap.abbreviate(missing) + " missing"
                                + (got.bitsPastEnd().isEmpty() ? "" : ", bits past npages " + got.bitsPastEnd()));
            }
            s.perturbation().off();
            Concurrency c = new Concurrency(vcpus, "kit threads, one batch per vCPU per round", writes, rounds, style.name(),
                    writes, writes, s.perturbation().settings());
            s.recorder().concurrency(c);
            s.recorder().summarise(rounds + " rounds of " + vcpus + " vCPUs writing all " + npages + " pages at once ("
                    + style + "); " + c.perturbation().describe());
        } finally {
            s.perturbation().off();
            pool.shutdownNow();
        }
    }

    /** A read of every page's first word, taken between {@code begin} and {@code end} (nanoTime). */
    private record Snapshot(String when, long begin, long end, long[] values) {
    }

    /** A harvest of iteration {@code iteration} invoked at or after {@code begin} that returned at or before {@code end}. */
    private record Harvest(String name, int iteration, long begin, long end, UserBitmap bitmap) {
    }

    /** Runs the selftest oracle; returns its guest writes and harvests. */
    private static long[] oracle(Scenario s, Harvester.Style style) {
        s.perturbation().on();
        try {
            return oracleRun(s, style);
        } finally {
            s.perturbation().off();
        }
    }

    private static long[] oracleRun(Scenario s, Harvester.Style style) {
        int vcpus = vcpus(s);
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        Harvester harvester = style.on(s, slot);
        int cycle = Kind.values().length;
        int iterations = cycle * s.options().scaled(ORACLE_ROUNDS / cycle);
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
                    harvest(s, slot, harvester, name, i, snapshots, harvests);
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
                harvest(s, slot, harvester, "q" + i, i, snapshots, harvests);
            }
        }
        if (total == 0) {
            throw new BackendError("the vCPUs completed no write in " + iterations + " iterations of random writes");
        }
        checkNoLostWrite(snapshots, harvests, startTime, stopTime, harvester);
        return new long[] {total, harvests.size()};
    }

    /**
     * Runs a harvest and reads every page right when it returns, before anything is recorded:
     * a store landing after the harvest returned is then seen as a change after it.
     */
    private static void harvest(Scenario s, Scenario.Slot slot, Harvester harvester, String name, int iteration,
                                List<Snapshot> snapshots, List<Harvest> harvests) {
        String after = "after " + name;
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
        harvests.add(new Harvest(name, iteration, begin, end[0], bitmap));
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
