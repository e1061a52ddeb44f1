package org.dirtylog.conformance;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.dirtylog.spi.DirtyGfn;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.RandomWriter;
import org.dirtylog.spi.RandomWrites;

/**
 * The no-lost-write oracle of the semantics note §4 and §10 for the dirty ring, shaped like the
 * kernel selftest's dirty-ring mode ({@code tools/testing/selftests/kvm/dirty_log_test.c}, the
 * 2025 mainline version) and its collector: iterations {@code i = 1, 2, ...}; in each, every
 * vCPU stores {@code i} into pages of a 2^11 + 3 page slot, one vCPU as the selftest's dense
 * sequential pass (a new page every store), the other at random pages, swapping each iteration.
 * The ring is the smallest the backend accepts, so it fills many times per iteration. A harvest
 * kicks every vCPU, collects every ring in order (marking RESET), calls
 * {@code KVM_RESET_DIRTY_RINGS} (which must return exactly what was marked), and only then reads
 * every page. Harvests run whenever a vCPU stopped with {@code KVM_EXIT_DIRTY_RING_FULL} (then it
 * is resumed); in every other iteration also while the vCPUs run; and after the vCPUs stopped.
 *
 * <p>No lost write (MUST): when a page's value differs between the reads after two consecutive
 * harvests k and k + 1, a store completed after harvest k returned and before the read after
 * k + 1, so it was invoked before harvest k + 2 began: harvest k + 1 or k + 2 must have collected
 * an entry for the page; only k + 1 when the vCPUs were stopped before k + 1 began. This is §4's
 * definition on the reads, and implies the selftest's "a page not reported in iteration i holds a
 * value below i".
 *
 * <p>Precision (SHOULD): a page reported in iteration {@code i} holds {@code i}, except, each by
 * its selftest name and nothing else: {@link Allowance#LAST_ENTRY_NOT_RETIRED} and
 * {@link Allowance#PREVIOUS_LAST_ENTRY_REPLAYED}. The selftest's third allowance (a never-written
 * page in the first collection of iteration 1 under {@code KVM_DIRTY_LOG_INITIALLY_SET}) concerns
 * bitmaps only.
 */
final class RingOracle {

    /** 2^11 + 3 pages, as the race rules. */
    static final long NPAGES = (1L << 11) + 3;

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int ITERATIONS = 16;
    private static final int MAX_VCPUS = 2;
    /** Wedged: a vCPU stays ring-full although this many harvests in a row found nothing in its ring. */
    private static final int EMPTY_FULL_HARVESTS = 2;
    private static final long POLL_NANOS = 20_000;
    private static final int EXAMPLES = 3;
    /** Lost pages explained before the most telling {@link #EXAMPLES} are picked. */
    private static final int CANDIDATES = 64;

    /** The selftest's allowances for a reported page that does not hold the current iteration. */
    enum Allowance {
        /**
         * {@code dirty_ring_last_page}: the last entry collected from a vCPU's ring in iteration
         * {@code i} may hold a value below {@code i}: its store pushed the entry and faulted, and
         * had not retired when the vCPU stopped ("the write may not yet have retired").
         */
        LAST_ENTRY_NOT_RETIRED,
        /**
         * {@code dirty_ring_prev_iteration_last_page}: the last entry collected from a vCPU's ring
         * in iteration {@code i - 1} may show again in iteration {@code i} holding {@code i - 1}
         * (the value cached in a register; under nested PML a write of L1 replayed).
         */
        PREVIOUS_LAST_ENTRY_REPLAYED
    }

    /** What started a harvest. */
    private enum Trigger {
        RING_FULL("after KVM_EXIT_DIRTY_RING_FULL"),
        RUNNING("while the vCPUs run"),
        STOPPED("after the vCPUs stopped");

        private final String text;

        Trigger(String text) {
            this.text = text;
        }
    }

    /** One harvest of the run: its entries, the reset's answer and the page values read right after. */
    private record Harvest(int number, int iteration, Trigger trigger, String fullVcpus,
                           List<RingCollector.Harvested> taken, BitSet reported, long[] after, long reset,
                           long ringEntries) {

        String describe() {
            return "harvest " + number + " (" + trigger.text + (fullVcpus.isEmpty() ? "" : " of " + fullVcpus) + ", "
                    + taken.size() + " entries, reset " + reset + wholeRings() + ")";
        }

        /** Names the rings that came back holding as many entries as they have: pushed past the soft limit. */
        private String wholeRings() {
            Map<Integer, Long> per = new TreeMap<>();
            for (RingCollector.Harvested h : taken) {
                per.merge(h.vcpu(), 1L, Long::sum);
            }
            String whole = per.entrySet().stream().filter(e -> e.getValue() >= ringEntries)
                    .map(e -> "vcpu" + e.getKey()).collect(Collectors.joining(", "));
            return whole.isEmpty() ? "" : "; the ring of " + whole + " came back entirely DIRTY (" + ringEntries
                    + " entries; the soft limit keeps at least 64 free), so pushes reached entries not yet reset";
        }
    }

    private final Scenario s;
    private final Scenario.Slot slot;
    private final RingCollector collector;
    private final int vcpus;
    private final boolean precision;
    private final List<Harvest> harvests = new ArrayList<>();
    private final Map<Integer, Long> lastEntry = new TreeMap<>();
    private final Map<Integer, Long> previousLastEntry = new TreeMap<>();
    private final Map<Integer, Integer> emptyFullHarvests = new TreeMap<>();
    private final Map<Integer, Long> ringFullExits = new TreeMap<>();
    private long[] values;
    private long writes;

    private RingOracle(Scenario s, boolean precision) {
        this.s = s;
        this.precision = precision;
        DirtyRings ring = DirtyRings.enableSmallest(s);
        this.slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        this.collector = new RingCollector(s, ring);
        this.vcpus = Math.min(s.caps().maxVcpus(), MAX_VCPUS);
        for (int v = 0; v < vcpus; v++) {
            s.vcpu(v);
            collector.map(v);
        }
        this.values = read();
    }

    /** RING-11. */
    static void noLostWrite(Scenario s) {
        new RingOracle(s, false).run();
    }

    /** RING-12. */
    static void reportsOnlyPagesWrittenInTheIteration(Scenario s) {
        new RingOracle(s, true).run();
    }

    private void run() {
        int iterations = s.options().scaled(ITERATIONS);
        long entries = collector.ring().entries();
        for (int i = 1; i <= iterations; i++) {
            collector.clearLog();
            int firstHarvest = harvests.size();
            long[] before = values;
            boolean concurrent = i % 2 == 0;
            RandomWriter[] writers = new RandomWriter[vcpus];
            for (int v = 0; v < vcpus; v++) {
                RandomWrites w = new RandomWrites(slot.gpa(), NPAGES, i, s.random().nextLong());
                writers[v] = sequentialWriter(v, i) ? s.startSequentialWrites(v, w) : s.startRandomWrites(v, w);
            }
            long sinceHarvest = 0;
            long target = Math.max(NPAGES, 4 * entries);
            String wedged = null;
            while (true) {
                long least = Long.MAX_VALUE;
                long sum = 0;
                List<Integer> full = new ArrayList<>();
                for (int v = 0; v < vcpus; v++) {
                    long n = writers[v].writesSoFar();
                    least = Math.min(least, n);
                    sum += n;
                    if (writers[v].ringFull()) {
                        full.add(v);
                    }
                }
                if (least >= target) {
                    break;
                }
                if (!full.isEmpty()) {
                    wedged = harvest(i, Trigger.RING_FULL, full);
                    if (wedged != null) {
                        break;
                    }
                    s.resumeWritersOnFullRings();
                    sinceHarvest = sum;
                } else if (concurrent && sum - sinceHarvest >= entries / 2) {
                    harvest(i, Trigger.RUNNING, List.of());
                    sinceHarvest = sum;
                } else {
                    pause();
                }
            }
            for (int v = 0; v < vcpus; v++) {
                ringFullExits.merge(v, writers[v].ringFullExits(), Long::sum);
                writes += s.stop(v, writers[v]);
            }
            harvest(i, Trigger.STOPPED, List.of());
            List<Harvest> ofIteration = harvests.subList(firstHarvest, harvests.size());
            if (precision) {
                checkPrecision(i, ofIteration);
            } else {
                checkNoLostWrite(i, before, firstHarvest);
            }
            if (wedged != null) {
                throw new RuleFailure("iteration " + i + ": a vCPU that stopped with KVM_EXIT_DIRTY_RING_FULL",
                        "DIRTY entries in its ring after every entry before them was harvested and reset", wedged
                                + " || iteration " + i + ": " + iterationStory(i));
            }
            previousLastEntry.clear();
            previousLastEntry.putAll(lastEntry);
            lastEntry.clear();
        }
        if (writes == 0) {
            throw new BackendError("the vCPUs completed no write in " + iterations + " iterations");
        }
        s.recorder().summarise(iterations + " iterations of " + vcpus + " vCPUs (sequential and random), " + writes
                + " guest writes, " + harvests.size() + " harvests of rings of " + entries + " entries, "
                + ringFullExits.values().stream().mapToLong(Long::longValue).sum() + " ring-full exits");
    }

    private static boolean sequentialWriter(int vcpu, int iteration) {
        return (vcpu + iteration) % 2 == 1;
    }

    private void pause() {
        LockSupport.parkNanos(POLL_NANOS);
        if (Thread.interrupted()) {
            Thread.currentThread().interrupt();
            throw new BackendError("interrupted (the rule timed out)");
        }
    }

    /**
     * Kick, collect, reset, then read every page (TLA+ Kick, CollectEntry, ResetEntry/ResetEnd,
     * ReadPages); fails when the reset's count is not what was marked. Returns null, or, when a
     * vCPU stays ring-full although harvest after harvest finds nothing in its ring, what the
     * ring looks like: the iteration then ends so that the pages can say what was lost.
     */
    private String harvest(int iteration, Trigger trigger, List<Integer> full) {
        long[][] read = new long[1][];
        RingCollector.Harvest h = collector.harvest(() -> read[0] = read());
        values = read[0];
        BitSet reported = new BitSet((int) NPAGES);
        for (RingCollector.Harvested e : h.taken()) {
            DirtyGfn gfn = e.entry();
            Expect.that(gfn.slot() == DirtyGfn.slotOf(0, slot.id()) && gfn.offset() >= 0 && gfn.offset() < NPAGES,
                    "entry " + e.index() + " of vcpu" + e.vcpu() + "'s ring in harvest " + h.number(),
                    "slot " + slot.id() + ", an offset below " + NPAGES, gfn.toString());
            reported.set((int) gfn.offset());
            lastEntry.put(e.vcpu(), gfn.offset());
        }
        String fullText = full.stream().map(v -> "vcpu" + v).collect(Collectors.joining(", "));
        Harvest record = new Harvest(h.number(), iteration, trigger, fullText, h.taken(), reported, values, h.reset(),
                collector.ring().entries());
        harvests.add(record);
        Expect.that(h.reset() == h.taken().size(), "KVM_RESET_DIRTY_RINGS in " + record.describe() + ", iteration "
                + iteration, "the " + h.taken().size() + " entries the collector marked RESET",
                h.reset() < 0 ? Errno.fromKernelReturn(h.reset()).toString() : String.valueOf(h.reset()));
        for (RingCollector.Harvested e : h.taken()) {
            emptyFullHarvests.put(e.vcpu(), 0);
        }
        for (int v : full) {
            // Only ring-full harvests in a row that found nothing in this ring, with no harvest in between that did.
            boolean empty = h.taken().stream().noneMatch(e -> e.vcpu() == v);
            int streak = empty ? emptyFullHarvests.merge(v, 1, Integer::sum) : 0;
            if (streak >= EMPTY_FULL_HARVESTS) {
                long fetch = collector.fetchIndex(v);
                return "vcpu" + v + " stopped with KVM_EXIT_DIRTY_RING_FULL again although " + streak + " harvests in a"
                        + " row found no DIRTY entry at the collector's fetch index " + fetch + " (entry " + fetch + " is "
                        + collector.entryAt(v, fetch) + "; around it: " + ringAround(v, fetch) + "): KVM's producer index"
                        + " is no longer where the collector expects it, because entries were pushed over unharvested"
                        + " ones or the reset lost count";
            }
        }
        return null;
    }

    private long[] read() {
        long[] out = new long[(int) NPAGES];
        for (int p = 0; p < out.length; p++) {
            out[p] = slot.memory().segment().get(LE_LONG, p * KvmApi.PAGE_SIZE);
        }
        return out;
    }

    // ---- no lost write ------------------------------------------------------------------------------

    private void checkNoLostWrite(int iteration, long[] beforeIteration, int firstHarvest) {
        List<String> examples = new ArrayList<>();
        int lost = 0;
        for (int k = firstHarvest; k < harvests.size(); k++) {
            long[] before = k == firstHarvest ? beforeIteration : harvests.get(k - 1).after();
            Harvest next = harvests.get(k);
            Harvest nextButOne = k + 1 < harvests.size() ? harvests.get(k + 1) : null;
            for (int p = 0; p < NPAGES; p++) {
                if (next.after()[p] == before[p] || next.reported().get(p)
                        || (next.trigger() != Trigger.STOPPED && nextButOne != null && nextButOne.reported().get(p))) {
                    continue;
                }
                lost++;
                if (examples.size() < CANDIDATES) {
                    String from = k == 0 ? "the read before any write"
                            : "the read after " + harvests.get(k - 1).describe();
                    examples.add(explainLost(iteration, p, before[p], from, next, nextButOne));
                }
            }
        }
        if (lost > 0) {
            // The examples a reader learns most from first: a sequential writer's ring that shows where the entry went.
            examples.sort(Comparator.comparingInt(e -> e.contains("the ring wrapped") ? 0
                    : e.contains("no entry was pushed") ? 1 : 2));
            throw new RuleFailure("iteration " + iteration + ": pages whose value changed between the reads after two"
                    + " harvests", "an entry for each in the next harvest, or the one after it when the write raced"
                    + " with the next", lost + " page(s) without one. "
                    + String.join(" || ", examples.subList(0, Math.min(EXAMPLES, examples.size())))
                    + " || iteration " + iteration + ": " + iterationStory(iteration));
        }
    }

    private String explainLost(int iteration, int page, long old, String from, Harvest next, Harvest nextButOne) {
        StringBuilder b = new StringBuilder();
        b.append("page ").append(page).append(" (slot ").append(slot.id()).append(", offset ").append(page)
                .append("): value ").append(old).append(" -> ").append(next.after()[page]).append(" (iteration ")
                .append(iteration).append(") between ").append(from)
                .append(" and the read after ").append(next.describe()).append("; collected by neither it")
                .append(next.trigger() == Trigger.STOPPED || nextButOne == null ? "" : " nor " + nextButOne.describe());
        for (int v = 0; v < vcpus; v++) {
            boolean sequential = sequentialWriter(v, iteration);
            b.append(". vcpu").append(v).append(sequential ? " (sequential writer)" : " (random writer)").append(": ")
                    .append(sequential ? neighbours(v, page) : mentions(v, page));
        }
        return b.toString();
    }

    /**
     * Returns where page {@code page}'s entry would be in vCPU {@code vcpu}'s ring for a sequential
     * writer: right after the entry for the page before it; shows what that index held.
     */
    private String neighbours(int vcpu, int page) {
        long entries = collector.ring().entries();
        List<RingCollector.Harvested> log = collector.log().stream().filter(h -> h.vcpu() == vcpu).toList();
        long previous = (page + NPAGES - 1) % NPAGES;
        for (int j = 0; j + 1 < log.size(); j++) {
            RingCollector.Harvested h = log.get(j);
            RingCollector.Harvested after = log.get(j + 1);
            if (h.entry().offset() != previous || after.entry().offset() == page || after.entry().offset() == previous) {
                continue;
            }
            long got = after.entry().offset();
            long distance = (got - page + NPAGES) % NPAGES;
            String why = got == (page + 1) % NPAGES ? "no entry was pushed for page " + page
                    : distance % entries == 0 ? "page " + got + " was stored " + distance
                            + " stores later, a multiple of the ring's " + entries + " entries: the ring wrapped over the"
                            + " unharvested entry for page " + page
                            : "pages " + page + ".." + ((got + NPAGES - 1) % NPAGES) + " have no entry";
            return "ring index " + h.index() + " (position " + h.position(entries) + ") holds page " + previous
                    + " in harvest " + h.harvest() + ", the next index " + after.index() + " (position "
                    + after.position(entries) + ") page " + got + " in harvest " + after.harvest() + ": " + why
                    + "; entries around: " + logAround(log, j + 1, entries);
        }
        return mentions(vcpu, page) + " (nor one for page " + previous + " followed by another page)";
    }

    /** Returns where vCPU {@code vcpu}'s ring had entries for {@code page} this iteration. */
    private String mentions(int vcpu, int page) {
        long entries = collector.ring().entries();
        List<RingCollector.Harvested> log = collector.log().stream().filter(h -> h.vcpu() == vcpu).toList();
        List<String> at = log.stream().filter(h -> h.entry().offset() == page).limit(4)
                .map(h -> "index " + h.index() + " (position " + h.position(entries) + ", harvest " + h.harvest() + ")")
                .toList();
        return at.isEmpty() ? "no entry for page " + page + " this iteration (" + log.size() + " entries collected)"
                : "entries for page " + page + " this iteration, none in the harvests above: " + String.join(", ", at);
    }

    private static String logAround(List<RingCollector.Harvested> log, int at, long entries) {
        int lo = Math.max(0, at - 3);
        int hi = Math.min(log.size(), at + 3);
        return log.subList(lo, hi).stream()
                .map(h -> "#" + h.index() + "@" + h.position(entries) + " page " + h.entry().offset() + " (h"
                        + h.harvest() + ")")
                .collect(Collectors.joining(", "));
    }

    private String ringAround(int vcpu, long index) {
        List<String> out = new ArrayList<>();
        for (long i = Math.max(0, index - 2); i < index + 3; i++) {
            out.add("#" + i + " " + collector.entryAt(vcpu, i));
        }
        return String.join(", ", out);
    }

    /** Returns the iteration's harvests and ring-full exits, in one line. */
    private String iterationStory(int iteration) {
        List<Harvest> of = harvests.stream().filter(h -> h.iteration() == iteration).toList();
        long full = of.stream().filter(h -> h.trigger() == Trigger.RING_FULL).count();
        String list = of.stream().limit(12).map(Harvest::describe).collect(Collectors.joining(", "));
        return of.size() + " harvests (" + full + " after KVM_EXIT_DIRTY_RING_FULL): " + list
                + (of.size() > 12 ? ", ..." : "") + "; ring-full exits so far per vCPU " + ringFullExits;
    }

    // ---- precision ----------------------------------------------------------------------------------

    private void checkPrecision(int iteration, List<Harvest> ofIteration) {
        long[] last = ofIteration.get(ofIteration.size() - 1).after();
        List<String> examples = new ArrayList<>();
        int stale = 0;
        for (Harvest h : ofIteration) {
            for (int p = h.reported().nextSetBit(0); p >= 0; p = h.reported().nextSetBit(p + 1)) {
                long v = last[p];
                if (v == iteration || allowance(p, v, iteration) != null) {
                    continue;
                }
                stale++;
                if (examples.size() < EXAMPLES) {
                    int page = p;
                    RingCollector.Harvested e = h.taken().stream().filter(x -> x.entry().offset() == page).findFirst()
                            .orElseThrow();
                    examples.add("page " + p + " collected in " + h.describe() + " from vcpu" + e.vcpu()
                            + "'s ring index " + e.index() + " holds " + v);
                }
            }
        }
        Expect.that(stale == 0, "pages collected in iteration " + iteration,
                "each holding " + iteration + ", or one of the allowances " + List.of(Allowance.values()),
                stale + " without: " + String.join("; ", examples) + " (last entries of this iteration " + lastEntry
                        + ", of the previous " + previousLastEntry + ")");
    }

    /** Returns the allowance under which page {@code p} holding {@code v} may be reported in {@code iteration}, or null. */
    private Allowance allowance(int p, long v, int iteration) {
        if (v < iteration && lastEntry.containsValue((long) p)) {
            return Allowance.LAST_ENTRY_NOT_RETIRED;
        }
        if (v == iteration - 1 && previousLastEntry.containsValue((long) p)) {
            return Allowance.PREVIOUS_LAST_ENTRY_REPLAYED;
        }
        return null;
    }
}
