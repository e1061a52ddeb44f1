package org.dirtylog.conformance;

import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;

/**
 * The sparse phases of the race rules: one kit thread per vCPU hands its vCPU batches of guest
 * writes ({@code runWrites}, which every backend with guest writes has) while the rule's thread
 * harvests the slots back to back; every write stores a value no other write of the rule
 * stores (phase, vCPU id and a per-vCPU counter), so a lost mark stays visible.
 *
 * <p><b>What is known about each write.</b> A write {@code w} of a batch completed after the
 * batch's call began ({@code start}) and before it returned ({@code end}). Around every
 * harvest the rule's thread reads the first word of every page of the batches in flight
 * ("snapshots"). A page is rewritten only after its previous write completed (its batch
 * returned), so a read that still sees the page's previous value proves that {@code w} had not
 * completed when the read began, and any other value proves it had completed when the read
 * ended. Hence {@code w} completed in {@code (lo, hi]}: {@code lo} the latest of the batch start
 * and the begin of every snapshot that saw the previous value, {@code hi} the earliest of the
 * batch end and the end of every snapshot that saw it done.
 *
 * <p><b>The verdict, sound for any schedule.</b> By the definition of the semantics note §4, a
 * write that completed at {@code c} must be reported by the first harvest of its slot invoked
 * after {@code c}, or by an earlier one that returned after {@code c}. Whatever {@code c} in
 * {@code (lo, hi]} was, that harvest is among the harvests of the slot from the first one that
 * returned after {@code lo} up to the first one invoked after {@code hi}; harvests of one slot
 * never overlap (one thread runs them), so these are consecutive. The write is lost only when
 * none of them reports the page: for any {@code c} the harvests that were allowed to report it
 * are a subset of those. A report caused by another write of the same page only makes the rule
 * more lenient, never stricter, so a correct backend never fails, whatever the interleaving.
 * Each phase ends with the vCPUs stopped and one more harvest of every slot, so the first
 * harvest invoked after {@code hi} always exists. Precision (a SHOULD, PREC-01): a page a
 * harvest reports must have a write that may have completed after the previous harvest of its
 * slot began and before this one returned.
 *
 * <p><b>Keeping a loss visible.</b> Most writes go to pages not written before in the rule or
 * whose responsible harvest is over (a harvest that began after the previous write's batch
 * returned has completed), so no later write of the page can reach a harvest that had to report
 * the earlier one. A share of writes rewrites a page of the vCPU's last batch at once: that is
 * what shows a page a racy harvest left writable but unlogged (edde99ce); such a rewrite may
 * mask the earlier write, and the judged-write count leaves those out. Pages are owned by one
 * vCPU each ({@code page % vcpus}) and all vCPUs walk the slot's bitmap words in one seeded
 * order, so marks of different vCPUs meet in the same words while the harvester copies them.
 */
final class SparsePhases {

    /** Writes per batch: from a short exit-to-exit run to a long one, drawn per batch. */
    static final int MIN_BATCH = 8;
    static final int MAX_BATCH = 200;
    /**
     * Batches each vCPU may start per harvest: the harvester grants them as it begins a harvest,
     * so writes overlap harvests and a harvest interval holds a few hundred writes, as in the
     * kernel's selftest, instead of as many as the vCPUs can make.
     */
    static final int BATCHES_PER_HARVEST = 2;
    /** Share of writes that rewrite a page of the vCPU's previous batches at once (edde99ce needs them). */
    private static final double QUICK_REWRITE = 0.2;
    /** Longest kit-side pause between two harvests or two batches, in nanoseconds. */
    private static final long MAX_JITTER_NANOS = 20_000;
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * A logged slot of the rule and how it is harvested.
     *
     * @param initiallyDirty the slot starts with every page dirty ({@code KVM_DIRTY_LOG_INITIALLY_SET}),
     *                       so its first harvest may report pages nobody wrote
     */
    record Target(Scenario.Slot slot, Harvester harvester, Harvester.Style style, boolean initiallyDirty) {

        Target(Scenario.Slot slot, Harvester harvester, Harvester.Style style) {
            this(slot, harvester, style, false);
        }
    }

    /**
     * How much to run.
     *
     * @param phases phases, each ending with the vCPUs stopped and one quiescent harvest per slot
     * @param harvestsPerPhase harvests while the vCPUs write, per phase (at least)
     * @param writesPerPhase writes that must complete while those harvests run, per phase (at least)
     * @param minObservations judged writes below which the run is an ERROR (insufficient coverage)
     */
    record Budget(int phases, int harvestsPerPhase, int writesPerPhase, long minObservations) {
    }

    /**
     * What the phases found.
     *
     * @param vcpus vCPUs that wrote
     * @param writes writes completed
     * @param harvests harvests run
     * @param observations writes judged against a harvest that began while a batch was in
     *                     flight, not rewritten before that harvest returned
     * @param lostCount writes no harvest allowed to report them reported
     * @param lost up to five of them, described
     * @param staleCount reports without a write that could explain them (precision)
     * @param stale up to five of them, described
     */
    record Outcome(int vcpus, long writes, long harvests, long observations, long lostCount, List<String> lost,
                   long staleCount, List<String> stale) {
    }

    /** A batch one kit thread handed its vCPU in one call. */
    private static final class Batch {
        final int vcpu;
        final int[] target;
        final long[] page;
        final long[] value;
        final long[] previous;
        long start;
        long end;
        /** Written only by the harvesting thread, read by it after the phase. */
        final List<Seen> seen = new ArrayList<>();
        long[] nextStart;

        Batch(int vcpu, int n) {
            this.vcpu = vcpu;
            this.target = new int[n];
            this.page = new long[n];
            this.value = new long[n];
            this.previous = new long[n];
        }
    }

    /** A snapshot of one batch's pages: which writes had completed. */
    private record Seen(long begin, long end, boolean[] done) {
    }

    private record Harvest(String name, int target, long begin, long end, UserBitmap bitmap, boolean concurrent) {
    }

    /** One vCPU's pages and state; touched by its kit thread, {@link #current} also by the harvester. */
    private static final class VcpuState {
        final int id;
        final SplittableRandom random;
        final int[] freshNext;
        final Map<Long, Long> lastValue = new HashMap<>();
        /** Pages of returned batches, oldest first: {key, batch end}. */
        final ArrayDeque<long[]> recent = new ArrayDeque<>();
        final ArrayDeque<Long> settled = new ArrayDeque<>();
        final List<Batch> batches = new ArrayList<>();
        volatile Batch current;
        long counter;
        long grantedBy = -1;
        int used;
        /** The grant ({@link #begun}) under which this vCPU last started a batch. */
        volatile long startedFor = -1;
        volatile Thread thread;

        VcpuState(int id, int targets, long seed) {
            this.id = id;
            this.random = new SplittableRandom(seed);
            this.freshNext = new int[targets];
        }
    }

    private final Scenario s;
    private final List<Target> targets;
    private final int vcpus;
    private final Budget budget;
    private final SplittableRandom random;
    /** Per target: the seeded order in which every vCPU walks the bitmap words for fresh pages. */
    private final int[][] wordOrder;
    /** Per target: begin time of the latest completed harvest (what settles a page). */
    private final AtomicLongArray completedBegin;
    private final List<List<Harvest>> harvests = new ArrayList<>();
    private final VcpuState[] states;
    private final LongAdder writes = new LongAdder();
    /** Harvests begun so far; each grants every vCPU {@link #BATCHES_PER_HARVEST} batches. */
    private volatile long begun;
    private volatile boolean stop;
    private volatile boolean exhausted;
    private volatile String failure;
    private final int threadsOffset;

    SparsePhases(Scenario s, List<Target> targets, int vcpus, Budget budget) {
        this.s = s;
        this.targets = List.copyOf(targets);
        this.vcpus = vcpus;
        this.budget = budget;
        this.random = new SplittableRandom(s.random().nextLong());
        this.threadsOffset = random.nextInt(Perturbation.Threads.values().length);
        this.wordOrder = new int[targets.size()][];
        this.completedBegin = new AtomicLongArray(targets.size());
        for (int t = 0; t < targets.size(); t++) {
            int words = (int) ((targets.get(t).slot().npages() + 63) >>> 6);
            int[] order = new int[words];
            for (int i = 0; i < words; i++) {
                order[i] = i;
            }
            for (int i = words - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int x = order[i];
                order[i] = order[j];
                order[j] = x;
            }
            wordOrder[t] = order;
            harvests.add(new ArrayList<>());
            completedBegin.set(t, Long.MIN_VALUE);
        }
        this.states = new VcpuState[vcpus];
        for (int v = 0; v < vcpus; v++) {
            states[v] = new VcpuState(v, targets.size(), random.nextLong());
        }
    }

    /**
     * Most phases a run may take while it waits for coverage: how many writes land inside a
     * harvest depends on how the machine schedules the kit's threads (on a loaded CI machine a
     * default run judged 3357 writes in four phases, and with two busy loops on both cores 4901
     * in twelve, where a quiet one judges 10,000 or more in four), so the run goes on, phase by
     * phase, until the judged writes reach the minimum, and only a backend that still falls
     * short after this many times its phases gets the ERROR. A phase takes well under a second
     * on the kit's backends, so the cap bounds a hopeless run, not a slow one.
     */
    static final int MAX_PHASES_FACTOR = 10;

    /**
     * Runs every phase of the budget, then more while too few writes could be judged, and
     * returns what the oracle found; a vCPU that fails is an ERROR.
     */
    Outcome run() {
        for (int v = 0; v < vcpus; v++) {
            s.vcpu(v);
        }
        int phase = 0;
        while (!exhausted && phase < budget.phases()) {
            runPhase(++phase);
        }
        Outcome outcome = judge();
        // Coverage is a fact the oracle counts, not a time bound: a slow schedule gets more phases.
        while (!exhausted && outcome.lostCount() == 0 && outcome.observations() < budget.minObservations()
                && phase < budget.phases() * MAX_PHASES_FACTOR) {
            runPhase(++phase);
            outcome = judge();
        }
        return outcome;
    }

    private void runPhase(int phase) {
        stop = false;
        // Which side the agent slows down in this phase: one slow side and one fast side open the windows.
        Perturbation.Threads noisy = Perturbation.Threads.values()[(phase + threadsOffset) % Perturbation.Threads.values().length];
        s.perturbation().restart(phase);
        if (noisy == Perturbation.Threads.VCPUS) {
            s.perturbation().exemptCurrentThread();
        }
        long writesBefore = writes.sum();
        List<Thread> threads = new ArrayList<>();
        for (int v = 0; v < vcpus; v++) {
            VcpuState st = states[v];
            st.thread = Thread.ofPlatform().daemon().name("dirtylog-vcpu" + v + "-writer").unstarted(() -> {
                if (noisy == Perturbation.Threads.HARVESTER) {
                    s.perturbation().exemptCurrentThread();
                }
                write(st, phase);
            });
            threads.add(st.thread);
            st.thread.start();
        }
        int n = 0;
        try {
            while (failure == null && !exhausted
                    && (n < budget.harvestsPerPhase() || writes.sum() - writesBefore < budget.writesPerPhase())) {
                checkInterrupt();
                begun = begun + 1;
                for (Thread thread : threads) {
                    LockSupport.unpark(thread);
                }
                awaitBatchInFlight(threads);
                jitter(random);
                int t = random.nextInt(targets.size());
                harvest(t, "h" + phase + "." + (++n), true);
            }
        } finally {
            stop = true;
            for (Thread thread : threads) {
                join(thread);
            }
        }
        if (failure != null) {
            throw new BackendError(failure);
        }
        for (int t = 0; t < targets.size(); t++) {
            harvest(t, "q" + phase + (targets.size() > 1 ? "/slot " + targets.get(t).slot().id() : ""), false);
        }
    }

    /** A kit thread: batches of writes on vCPU {@code st.id} until the phase stops. TLA+: VcpuStore(v) of many writes. */
    private void write(VcpuState st, int phase) {
        try {
            while (!stop) {
                long grant = begun;
                if (st.grantedBy != grant) {
                    st.grantedBy = grant;
                    st.used = 0;
                }
                if (st.used >= BATCHES_PER_HARVEST) {
                    // Until the next harvest begins (it unparks this thread); the timeout only re-checks.
                    LockSupport.parkNanos(100_000);
                    continue;
                }
                st.used++;
                st.startedFor = grant;
                Batch b = nextBatch(st, phase);
                if (b == null) {
                    exhausted = true;
                    return;
                }
                jitter(st.random);
                List<GuestWrite> list = new ArrayList<>(b.page.length);
                for (int i = 0; i < b.page.length; i++) {
                    list.add(new GuestWrite(targets.get(b.target[i]).slot().gpaOf(b.page[i]), b.value[i]));
                }
                b.start = System.nanoTime();
                st.current = b;
                IoctlResult<Integer> r = s.runWrites(st.id, list, b.page.length + " distinct values, phase " + phase);
                b.end = System.nanoTime();
                st.current = null;
                if (!r.isOk() || r.value() != b.page.length) {
                    failure = "vcpu" + st.id + " failed a batch of " + b.page.length + " guest writes inside logged slots: "
                            + CallText.show(r);
                    return;
                }
                st.batches.add(b);
                for (int i = 0; i < b.page.length; i++) {
                    long key = key(b.target[i], b.page[i]);
                    st.lastValue.put(key, b.value[i]);
                    st.recent.addLast(new long[] {key, b.end});
                }
                writes.add(b.page.length);
            }
        } catch (RuntimeException e) {
            failure = "vcpu" + st.id + " threw " + e;
        }
    }

    private Batch nextBatch(VcpuState st, int phase) {
        // Settle pages whose responsible harvest is over: a harvest that began after their batch returned completed.
        while (!st.recent.isEmpty()) {
            long[] head = st.recent.peekFirst();
            if (completedBegin.get(targetOf(head[0])) <= head[1]) {
                break;
            }
            st.settled.addLast(st.recent.pollFirst()[0]);
        }
        int n = MIN_BATCH + st.random.nextInt(MAX_BATCH - MIN_BATCH + 1);
        List<Long> keys = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Long key = null;
            if (!st.recent.isEmpty() && st.random.nextDouble() < QUICK_REWRITE) {
                key = st.recent.pollLast()[0];
            }
            if (key == null) {
                key = fresh(st);
            }
            if (key == null && !st.settled.isEmpty()) {
                key = st.settled.pollFirst();
            }
            if (key == null) {
                break;
            }
            keys.add(key);
        }
        if (keys.isEmpty()) {
            return null;
        }
        Batch b = new Batch(st.id, keys.size());
        for (int i = 0; i < keys.size(); i++) {
            long key = keys.get(i);
            b.target[i] = targetOf(key);
            b.page[i] = pageOf(key);
            b.previous[i] = st.lastValue.getOrDefault(key, 0L);
            b.value[i] = ((long) phase << 48) | ((long) st.id << 40) | (++st.counter & 0xff_ffff_ffffL);
        }
        return b;
    }

    /** Returns a page this vCPU never wrote, walking the shared word order, or null when there is none. */
    private Long fresh(VcpuState st) {
        int t = st.random.nextInt(targets.size());
        for (int k = 0; k < targets.size(); k++, t = (t + 1) % targets.size()) {
            long npages = targets.get(t).slot().npages();
            int[] order = wordOrder[t];
            // Each word holds this vCPU's pages id, id + vcpus, ... below 64: walk word by word.
            int perWord = (64 + vcpus - 1 - st.id) / vcpus;
            while (st.freshNext[t] < order.length * perWord) {
                int i = st.freshNext[t]++;
                long page = order[i / perWord] * 64L + st.id + (long) (i % perWord) * vcpus;
                if (page < npages) {
                    return key(t, page);
                }
            }
        }
        return null;
    }

    /**
     * Waits until some vCPU has a batch in flight, so that the harvest about to begin races with
     * writes, or every vCPU has started one under the current grant (they may all be done
     * already); returns early when no vCPU can write any more (a failure, no pages, all ended).
     */
    private void awaitBatchInFlight(List<Thread> threads) {
        long grant = begun;
        while (failure == null && !exhausted) {
            boolean allStarted = true;
            for (VcpuState st : states) {
                if (st.current != null) {
                    return;
                }
                allStarted &= st.startedFor == grant;
            }
            if (allStarted) {
                return;
            }
            if (threads.stream().noneMatch(Thread::isAlive)) {
                return;
            }
            checkInterrupt();
            Thread.onSpinWait();
        }
    }

    private void harvest(int t, String name, boolean concurrent) {
        Target target = targets.get(t);
        boolean racing = snapshot() > 0;
        long begin = System.nanoTime();
        long[] end = new long[1];
        UserBitmap bitmap = target.harvester().harvest(() -> {
            end[0] = System.nanoTime();
            snapshot();
        });
        completedBegin.set(t, begin);
        Expect.that(bitmap.bitsPastEnd().isEmpty(), "harvest " + name + " of slot " + target.slot().id(),
                "no bit past npages " + target.slot().npages(), "bits " + UserBitmap.abbreviate(bitmap.bitsPastEnd()));
        harvests.get(t).add(new Harvest(name, t, begin, end[0], bitmap, concurrent && racing));
    }

    /**
     * Reads the first word of every page of the batches in flight, records which writes had
     * completed and returns how many batches were in flight.
     */
    private int snapshot() {
        int inFlight = 0;
        for (VcpuState st : states) {
            Batch b = st.current;
            if (b == null) {
                continue;
            }
            inFlight++;
            boolean[] done = new boolean[b.page.length];
            long begin = System.nanoTime();
            // Reads after the fence are not satisfied earlier: a stale "not done" would move lo too late.
            VarHandle.fullFence();
            for (int i = 0; i < done.length; i++) {
                Scenario.Slot slot = targets.get(b.target[i]).slot();
                long v = slot.memory().segment().get(LE_LONG, b.page[i] * KvmApi.PAGE_SIZE);
                done[i] = v != b.previous[i];
            }
            b.seen.add(new Seen(begin, System.nanoTime(), done));
        }
        return inFlight;
    }

    private Outcome judge() {
        long judged = 0;
        long lostCount = 0;
        List<String> lost = new ArrayList<>();
        long total = 0;
        // Per page: the completion windows of its writes, for precision.
        Map<Long, List<long[]>> windows = new HashMap<>();
        for (VcpuState st : states) {
            linkRewrites(st);
            for (Batch b : st.batches) {
                for (int i = 0; i < b.page.length; i++) {
                    total++;
                    long lo = b.start;
                    long hi = b.end;
                    for (Seen seen : b.seen) {
                        if (seen.done()[i]) {
                            hi = Math.min(hi, seen.end());
                        } else {
                            lo = Math.max(lo, seen.begin());
                        }
                    }
                    // For precision a write explains a report from when its batch began: a fault may mark
                    // the page before the store lands (a real kernel's does), and a harvest may see that mark.
                    windows.computeIfAbsent(key(b.target[i], b.page[i]), k -> new ArrayList<>()).add(new long[] {b.start, hi});
                    List<Harvest> hs = harvests.get(b.target[i]);
                    int first = firstBegunAfter(hs, hi);
                    int from = firstEndedAfter(hs, lo);
                    boolean reported = false;
                    for (int m = from; m <= first && m < hs.size(); m++) {
                        reported |= hs.get(m).bitmap().isSet(b.page[i]);
                    }
                    if (first < hs.size() && hs.get(first).concurrent() && b.nextStart[i] > hs.get(first).end()) {
                        judged++;
                    }
                    if (!reported) {
                        lostCount++;
                        if (lost.size() < 5) {
                            lost.add(describe(b, i, lo, hi, hs, from, first));
                        }
                    }
                }
            }
        }
        long staleCount = 0;
        List<String> stale = new ArrayList<>();
        for (int t = 0; t < targets.size(); t++) {
            List<Harvest> hs = harvests.get(t);
            for (int k = 0; k < hs.size(); k++) {
                if (k == 0 && targets.get(t).initiallyDirty()) {
                    continue;
                }
                Harvest h = hs.get(k);
                long since = k == 0 ? Long.MIN_VALUE : hs.get(k - 1).begin();
                long[] words = h.bitmap().words();
                for (int w = 0; w < words.length; w++) {
                    for (long bits = words[w]; bits != 0; bits &= bits - 1) {
                        long p = w * 64L + Long.numberOfTrailingZeros(bits);
                        if (p >= targets.get(t).slot().npages()) {
                            continue;
                        }
                        boolean explained = false;
                        for (long[] win : windows.getOrDefault(key(t, p), List.of())) {
                            explained |= win[0] < h.end() && win[1] > since;
                        }
                        if (!explained) {
                            staleCount++;
                            if (stale.size() < 5) {
                                stale.add("page " + p + " of slot " + targets.get(t).slot().id() + " by " + h.name()
                                        + (k == 0 ? "" : ", not written since " + hs.get(k - 1).name() + " began"));
                            }
                        }
                    }
                }
            }
        }
        long harvestCount = harvests.stream().mapToLong(List::size).sum();
        return new Outcome(vcpus, total, harvestCount, judged, lostCount, lost, staleCount, stale);
    }

    /** Sets each write's {@code nextStart}: when the next write of the same page began (its owner's next batch). */
    private static void linkRewrites(VcpuState st) {
        Map<Long, long[]> lastRef = new HashMap<>();
        for (Batch b : st.batches) {
            b.nextStart = new long[b.page.length];
            Arrays.fill(b.nextStart, Long.MAX_VALUE);
        }
        for (int n = 0; n < st.batches.size(); n++) {
            Batch b = st.batches.get(n);
            for (int i = 0; i < b.page.length; i++) {
                long key = key(b.target[i], b.page[i]);
                long[] previous = lastRef.put(key, new long[] {n, i});
                if (previous != null) {
                    st.batches.get((int) previous[0]).nextStart[(int) previous[1]] = b.start;
                }
            }
        }
    }

    private String describe(Batch b, int i, long lo, long hi, List<Harvest> hs, int from, int first) {
        List<String> names = new ArrayList<>();
        for (int m = from; m <= first && m < hs.size(); m++) {
            names.add(hs.get(m).name());
        }
        Target t = targets.get(b.target[i]);
        return "page " + b.page[i] + " of slot " + t.slot().id() + ": value 0x" + Long.toHexString(b.value[i]) + " written by vcpu"
                + b.vcpu + " completed " + (hi - lo) / 1000 + " us wide window, reported by none of " + names + " ("
                + t.style() + ")";
    }

    /** Returns the index of the first harvest invoked after {@code t}, or the list's size. */
    private static int firstBegunAfter(List<Harvest> hs, long t) {
        int lo = 0;
        int hi = hs.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (hs.get(mid).begin() > t) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    /** Returns the index of the first harvest that returned after {@code t}, or the list's size. */
    private static int firstEndedAfter(List<Harvest> hs, long t) {
        int lo = 0;
        int hi = hs.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (hs.get(mid).end() > t) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    private static long key(int target, long page) {
        return ((long) target << 40) | page;
    }

    private static int targetOf(long key) {
        return (int) (key >>> 40);
    }

    private static long pageOf(long key) {
        return key & ((1L << 40) - 1);
    }

    /** A kit-side pause drawn from {@code r}: none in two of three cases, else a spin of up to 20 us. */
    private static void jitter(SplittableRandom r) {
        if (r.nextInt(3) != 0) {
            return;
        }
        long until = System.nanoTime() + r.nextLong(MAX_JITTER_NANOS);
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }

    private static void checkInterrupt() {
        if (Thread.interrupted()) {
            Thread.currentThread().interrupt();
            throw new BackendError("interrupted (the rule timed out)");
        }
    }

    private static void join(Thread thread) {
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendError("interrupted while a vCPU was still in a batch of writes (the rule timed out)");
        }
    }
}
