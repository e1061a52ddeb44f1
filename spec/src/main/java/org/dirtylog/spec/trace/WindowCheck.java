package org.dirtylog.spec.trace;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The contract's two harvest guards over a behaviour whose calls overlap in time (vCPU threads
 * writing while a harvester runs): TLC cannot enumerate where each write completed, but the
 * trace bounds it. A write done by a {@code KVM_RUN} completed in that call's window
 * ({@code t0}, {@code t1}]; a harvest is invoked at its call's {@code t0} and returns at its
 * {@code t1}. For every completion point the windows allow:
 *
 * <ul>
 *   <li>NoLostWrite: a write whose call returned before a harvest of its slot was invoked is
 *       owed there, so that harvest, or one before it that returned after the write began,
 *       must report the page;</li>
 *   <li>Precision: a reported page must have a write (or a running writer covering it) that
 *       began before the harvest returned and completed after the slot's previous harvest was
 *       invoked.</li>
 * </ul>
 *
 * With manual protect on (the contract's {@code ManualGet} and {@code ManualClear}) a GET
 * discharges nothing and a CLEAR takes the pages it names: a write whose call returned before a
 * GET was invoked must be reported by it unless a CLEAR naming the page returned after the write
 * began and was invoked before the GET; a reported page must have a write that began before the
 * GET returned and completed after the last CLEAR of it (before the GET) was invoked, or be a page
 * of an INITIALLY_SET bitmap no CLEAR has named. An INITIALLY_SET bitmap's pages count as written
 * in the window of the region update that allocated it.
 *
 * A ring harvest (the collections since the last {@code KVM_RESET_DIRTY_RINGS}, see
 * {@link Translation}) is a harvest of every logged slot, invoked at its first collection's
 * {@code t0} and returning at the reset's {@code t1}, reporting the pages of the slot its entries
 * named: a write whose call returned before the first collection left its vCPU's log buffer in
 * the ring, and a page collected is taken only once the reset re-arms it. Windows that are not
 * whole ring harvests (some vCPU's ring not collected, entries reset that the collector did not
 * take) are not judged.
 *
 * A rejection is therefore sound for any interleaving the windows allow. Checked in Java: this
 * is the guard of {@code HarvestReturn} (and {@code ManualGet}) read over windows, not a TLC run.
 */
final class WindowCheck {

    private record Write(long seq, long slot, long page, long t0, long t1, String actor) {
    }

    private record Harvest(long seq, String op, long slot, long t0, long t1, TreeSet<Long> pages) {
    }

    /** A writer's window: it may write any page of {@code [first, first + pages)} of guest memory from t0 to t1. */
    private record Writer(long firstGpa, long pages, long t0, long t1) {
    }

    private record SlotMirror(long gpa, long npages) {
    }

    /** A successful region update of {@code slot}: a new bitmap or none, so writes before it are not owed after it. */
    private record Update(long seq, long slot, long t0, long t1) {
    }

    /** A KVM_CLEAR_DIRTY_LOG that returned 0: user space took {@code pages} of {@code slot} in its window. */
    private record Clear(long seq, long slot, long t0, long t1, TreeSet<Long> pages) {
    }

    /**
     * The outcome: empty when both guards hold for every write and harvest, else the rejection.
     *
     * @param writes writes judged
     * @param harvests harvests judged
     */
    record Outcome(int writes, int harvests, Optional<Rejection> rejection) {
    }

    /** The first harvest that breaks a guard. */
    record Rejection(long seq, String op, String message) {
    }

    private WindowCheck() {
    }

    /**
     * Returns the check of one behaviour ({@code events} in seq order).
     *
     * @throws Translation.Skip when the behaviour holds what the windows cannot judge
     */
    static Outcome of(List<JsonNode> events) {
        Map<Long, SlotMirror> slots = new HashMap<>();
        Map<Long, long[]> bitmaps = new HashMap<>();
        List<Write> writes = new ArrayList<>();
        List<Harvest> harvests = new ArrayList<>();
        Map<Integer, Writer> open = new HashMap<>();
        List<Writer> writers = new ArrayList<>();
        List<Update> updates = new ArrayList<>();
        JsonNode pendingSwitch = null;
        long pendingCold = 0;
        boolean manual = false;
        boolean initiallySet = false;
        boolean bitmapHarvests = false;
        List<Harvest> manualGets = new ArrayList<>();
        List<Clear> clears = new ArrayList<>();
        List<Write> initial = new ArrayList<>();
        TreeSet<Long> vcpus = new TreeSet<>();
        TreeSet<Long> collectedFrom = new TreeSet<>();
        Map<Long, TreeSet<Long>> collected = new HashMap<>();
        long ringStart = Long.MAX_VALUE;
        for (JsonNode e : events) {
            String op = e.get("op").asText();
            long seq = e.get("seq").asLong();
            long ret = e.path("ret").asLong();
            long t0 = e.path("t0").asLong();
            long t1 = e.path("t1").asLong();
            switch (op) {
                case "KVM_SET_USER_MEMORY_REGION" -> {
                    if (ret != 0) {
                        break;
                    }
                    updates.add(new Update(seq, e.get("slot").asLong(), t0, t1));
                    long size = e.get("memory_size").asLong();
                    SlotMirror was = slots.get(e.get("slot").asLong());
                    if (size == 0 || (e.get("flags").asLong() & 1) == 0) {
                        slots.remove(e.get("slot").asLong());
                    } else {
                        slots.put(e.get("slot").asLong(), new SlotMirror(e.get("guest_phys_addr").asLong(),
                                size / Translation.PAGE_SIZE));
                        if (initiallySet && was == null) {
                            // A new bitmap (a slot created logged, or logging turned on): every page set.
                            for (long p = 0; p < size / Translation.PAGE_SIZE; p++) {
                                initial.add(new Write(seq, e.get("slot").asLong(), p, t0, t1, "the INITIALLY_SET bitmap"));
                            }
                        }
                    }
                    bitmaps.remove(e.get("slot").asLong());
                }
                case "KVM_RUN" -> {
                    JsonNode gpas = e.get("gpas");
                    long done = e.has("done") ? e.get("done").asLong() : Math.max(ret, 0);
                    for (int k = 0; k < Math.min(done, gpas.size()); k++) {
                        long gpa = gpas.get(k).asLong();
                        for (Map.Entry<Long, SlotMirror> m : slots.entrySet()) {
                            SlotMirror s = m.getValue();
                            if (gpa >= s.gpa() && gpa < s.gpa() + s.npages() * Translation.PAGE_SIZE) {
                                writes.add(new Write(seq, m.getKey(), (gpa - s.gpa()) / Translation.PAGE_SIZE, t0, t1,
                                        e.path("actor").asText()));
                            }
                        }
                    }
                    if (ret < 0) {
                        // How many were done is unknown: each may have begun, so each covers precision until the call returned.
                        for (JsonNode g : gpas) {
                            writers.add(new Writer(g.asLong(), 1, t0, t1));
                        }
                    } else if (done < gpas.size()) {
                        // The vCPU exited before this write retired (a full ring): its fault may have logged the page.
                        writers.add(new Writer(gpas.get((int) done).asLong(), 1, t0, t1));
                    }
                }
                case "writer_start" -> {
                    open.put(e.get("vcpu").asInt(), new Writer(e.get("first_gpa").asLong(), e.get("pages").asLong(), t0,
                            Long.MAX_VALUE));
                }
                case "writer_stop" -> {
                    Writer w = open.remove(e.get("vcpu").asInt());
                    if (w != null) {
                        writers.add(new Writer(w.firstGpa(), w.pages(), w.t0(), t1));
                    }
                }
                case "KVM_GET_USER_DIRTY_LOG_ADDR" -> {
                    if (ret == 0 && e.has("dirty_bitmap")) {
                        bitmaps.put(e.get("slot").asLong(), new long[] {e.get("dirty_bitmap").asLong(),
                                e.get("dirty_bitmap_old").asLong()});
                    }
                }
                case "KVM_GET_DIRTY_LOG" -> {
                    if (manual) {
                        // Discharges nothing: one whose result was not seen changes nothing either.
                        if (ret == 0 && e.hasNonNull("pages")) {
                            manualGets.add(new Harvest(seq, op, e.get("slot").asLong(), t0, t1, numbers(e.get("pages"))));
                        }
                        break;
                    }
                    bitmapHarvests = true;
                    if (ret == 0 && e.hasNonNull("pages")) {
                        harvests.add(new Harvest(seq, op, e.get("slot").asLong(), t0, t1, numbers(e.get("pages"))));
                    } else if (ret == 0 || e.path("errno").asText().equals("EFAULT")) {
                        throw new Translation.Skip("a GET whose result was not read (seq " + seq + ")");
                    }
                }
                case "KVM_SWITCH_DIRTY_LOG" -> {
                    bitmapHarvests = true;
                    long slot = e.get("slot").asLong();
                    if (ret == 1) {
                        harvests.add(new Harvest(seq, op, slot, t0, t1, new TreeSet<>()));
                    } else if (ret == 0) {
                        long[] b = bitmaps.get(slot);
                        if (b == null) {
                            throw new Translation.Skip("a SWITCH (seq " + seq + ") of a slot whose bitmaps were not asked for");
                        }
                        bitmaps.put(slot, new long[] {b[1], b[0]});
                        pendingSwitch = e;
                        pendingCold = b[0];
                    }
                }
                case "read_bitmap" -> {
                    if (pendingSwitch != null && e.get("addr").asLong() == pendingCold && e.hasNonNull("pages")) {
                        harvests.add(new Harvest(pendingSwitch.get("seq").asLong(), "KVM_SWITCH_DIRTY_LOG",
                                pendingSwitch.get("slot").asLong(), pendingSwitch.get("t0").asLong(),
                                pendingSwitch.get("t1").asLong(), numbers(e.get("pages"))));
                        pendingSwitch = null;
                    }
                }
                case "KVM_ENABLE_CAP" -> {
                    if (ret == 0 && e.path("cap").asText().equals("KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2")) {
                        long args0 = e.get("args0").asLong();
                        manual = (args0 & 1) != 0;
                        initiallySet = manual && (args0 & 2) != 0;
                    } else if (ret == 0 && !e.path("cap").asText().startsWith("KVM_CAP_DIRTY_LOG_RING")) {
                        throw new Translation.Skip(op + " (seq " + seq + ") of " + e.path("cap").asText()
                                + " while vCPUs write: a capability the windows do not know");
                    }
                }
                case "KVM_CLEAR_DIRTY_LOG" -> {
                    if (ret == 0 && !e.hasNonNull("pages")) {
                        throw new Translation.Skip("a CLEAR (seq " + seq + ") from a bitmap the trace could not read");
                    }
                    if (ret == 0) {
                        clears.add(new Clear(seq, e.get("slot").asLong(), t0, t1, numbers(e.get("pages"))));
                    }
                }
                case "KVM_CREATE_VCPU" -> {
                    if (ret >= 0) {
                        vcpus.add(e.get("vcpu").asLong());
                    }
                }
                case "collect_ring" -> {
                    ringStart = Math.min(ringStart, t0);
                    collectedFrom.add(e.get("vcpu").asLong());
                    Translation.addCollected(collected, e);
                }
                case "KVM_RESET_DIRTY_RINGS" -> {
                    if (collectedFrom.isEmpty()) {
                        if (ret > 0) {
                            throw new Translation.Skip("KVM_RESET_DIRTY_RINGS (seq " + seq + ") of entries the collector "
                                    + "did not take");
                        }
                        break;
                    }
                    if (!collectedFrom.containsAll(vcpus) || ret < 0) {
                        throw new Translation.Skip("KVM_RESET_DIRTY_RINGS (seq " + seq + ") ending a partial or failed "
                                + "ring harvest");
                    }
                    bitmapHarvests = true;
                    for (long slot : slots.keySet()) {
                        harvests.add(new Harvest(seq, "ring harvest, " + op, slot, ringStart, t1,
                                collected.getOrDefault(slot, new TreeSet<>())));
                    }
                    ringStart = Long.MAX_VALUE;
                    collectedFrom.clear();
                    collected.clear();
                }
                default -> {
                }
            }
        }
        open.values().forEach(writers::add);
        for (Update u : updates) {
            boolean during = writes.stream().anyMatch(w -> w.t0() < u.t1() && w.t1() > u.t0())
                    || writers.stream().anyMatch(w -> w.t0() < u.t1() && w.t1() > u.t0());
            if (during) {
                throw new Translation.Skip("a memslot update (seq " + u.seq() + ") while vCPUs write: the windows do not "
                        + "say which side of it each write fell");
            }
        }
        if (manualGets.isEmpty() && clears.isEmpty() && initial.isEmpty()) {
            return judge(slots, writes, harvests, writers, updates);
        }
        if (bitmapHarvests) {
            throw new Translation.Skip("manual-protect GETs or CLEARs and clearing harvests in one behaviour while vCPUs "
                    + "write: the windows do not say which discharged a write");
        }
        return judgeManual(slots, writes, initial, manualGets, clears, writers, updates);
    }

    private static Outcome judge(Map<Long, SlotMirror> slots, List<Write> writes, List<Harvest> harvests,
                                 List<Writer> writers, List<Update> updates) {
        Map<Long, List<Harvest>> bySlot = new HashMap<>();
        for (Harvest h : harvests) {
            bySlot.computeIfAbsent(h.slot(), k -> new ArrayList<>()).add(h);
        }
        bySlot.values().forEach(l -> l.sort((a, b) -> Long.compare(a.t0(), b.t0())));
        Map<List<Long>, List<Write>> byPage = new HashMap<>();
        for (Write w : writes) {
            byPage.computeIfAbsent(List.of(w.slot(), w.page()), k -> new ArrayList<>()).add(w);
        }
        Rejection first = null;
        for (Write w : writes) {
            List<Harvest> hs = bySlot.getOrDefault(w.slot(), List.of());
            Harvest due = hs.stream().filter(h -> h.t0() > w.t1()).findFirst().orElse(null);
            // A region update of the slot after the write gives it a new bitmap or none: not owed past it.
            long nextUpdate = updates.stream().filter(u -> u.slot() == w.slot() && u.t0() > w.t1()).mapToLong(Update::t0)
                    .min().orElse(Long.MAX_VALUE);
            if (due == null || due.t0() > nextUpdate) {
                continue;
            }
            boolean reported = hs.stream().anyMatch(h -> h.t1() > w.t0() && h.t0() <= due.t0() && h.pages().contains(w.page()));
            if (!reported && (first == null || due.seq() < first.seq())) {
                first = new Rejection(due.seq(), due.op(), "NoLostWrite: page " + w.page() + " of slot " + w.slot()
                        + ", written by " + w.actor() + " in the KVM_RUN at seq " + w.seq()
                        + ", which returned before this harvest was invoked, is reported by no harvest of the slot that "
                        + "returned after that write began");
            }
        }
        for (List<Harvest> hs : bySlot.values()) {
            for (int k = 0; k < hs.size(); k++) {
                Harvest h = hs.get(k);
                long since = k == 0 ? Long.MIN_VALUE : hs.get(k - 1).t0();
                SlotMirror s = slots.get(h.slot());
                for (long p : h.pages()) {
                    boolean written = byPage.getOrDefault(List.of(h.slot(), p), List.of()).stream()
                            .anyMatch(w -> w.t0() < h.t1() && w.t1() > since);
                    boolean covered = covered(writers, s, p, since, h.t1());
                    if (!written && !covered && (first == null || h.seq() < first.seq())) {
                        first = new Rejection(h.seq(), h.op(), "Precision: page " + p + " of slot " + h.slot()
                                + " reported, but no write of it began before this harvest returned and completed after "
                                + "the slot's previous harvest was invoked");
                    }
                }
            }
        }
        return new Outcome(writes.size(), harvests.size(), Optional.ofNullable(first));
    }

    /**
     * The guards of ManualGet over windows (see the class comment), per page: its writes sorted
     * by start, its CLEARs sorted by start, the slot's GETs sorted by start, so a trace of tens
     * of thousands of writes and thousands of GETs is judged in about (writes + reported pages)
     * times a logarithm.
     */
    private static Outcome judgeManual(Map<Long, SlotMirror> slots, List<Write> writes, List<Write> initial,
                                       List<Harvest> gets, List<Clear> clears, List<Writer> writers, List<Update> updates) {
        Map<List<Long>, List<Write>> writesOf = new HashMap<>();
        for (List<Write> l : List.of(writes, initial)) {
            for (Write w : l) {
                writesOf.computeIfAbsent(List.of(w.slot(), w.page()), k -> new ArrayList<>()).add(w);
            }
        }
        writesOf.values().forEach(l -> l.sort((a, b) -> Long.compare(a.t0(), b.t0())));
        Map<List<Long>, List<Clear>> clearsOf = new HashMap<>();
        for (Clear c : clears) {
            for (long p : c.pages()) {
                clearsOf.computeIfAbsent(List.of(c.slot(), p), k -> new ArrayList<>()).add(c);
            }
        }
        clearsOf.values().forEach(l -> l.sort((a, b) -> Long.compare(a.t0(), b.t0())));
        Map<Long, List<Harvest>> getsOf = new HashMap<>();
        for (Harvest g : gets) {
            getsOf.computeIfAbsent(g.slot(), k -> new ArrayList<>()).add(g);
        }
        getsOf.values().forEach(l -> l.sort((a, b) -> Long.compare(a.t0(), b.t0())));
        Map<Long, long[]> updateStarts = new HashMap<>();
        for (Update u : updates) {
            updateStarts.merge(u.slot(), new long[] {u.t0()}, (a, b) -> {
                long[] m = java.util.Arrays.copyOf(a, a.length + 1);
                m[a.length] = b[0];
                return m;
            });
        }
        updateStarts.values().forEach(java.util.Arrays::sort);
        Rejection first = null;
        // NoLostWrite: every GET invoked after w returned, before the slot's next update and before
        // any CLEAR of the page that returned after w began was invoked, must report the page.
        for (Map.Entry<List<Long>, List<Write>> e : writesOf.entrySet()) {
            long slot = e.getKey().get(0);
            long page = e.getKey().get(1);
            List<Harvest> hs = getsOf.getOrDefault(slot, List.of());
            List<Clear> cs = clearsOf.getOrDefault(e.getKey(), List.of());
            long[] us = updateStarts.getOrDefault(slot, new long[0]);
            for (Write w : e.getValue()) {
                long bound = firstAfter(us, w.t1());
                for (Clear c : cs) {
                    if (c.t1() > w.t0()) {
                        bound = Math.min(bound, c.t0());
                        break; // sorted by start: the first that may take w ends the span
                    }
                }
                for (int k = firstGetAfter(hs, w.t1()); k < hs.size() && hs.get(k).t0() <= bound; k++) {
                    Harvest g = hs.get(k);
                    if (!g.pages().contains(page)) {
                        if (first == null || g.seq() < first.seq()) {
                            first = new Rejection(g.seq(), g.op(), "NoLostWrite: page " + page + " of slot " + slot
                                    + ", written by " + w.actor() + (w.actor().startsWith("the INITIALLY_SET")
                                            ? " allocated" : " in the KVM_RUN")
                                    + " at seq " + w.seq() + ", which returned before this manual-protect GET was "
                                    + "invoked, is not reported, and no CLEAR of it could have taken it since");
                        }
                        break;
                    }
                }
            }
        }
        // Precision: a reported page was written (or its writer ran) after its last CLEAR before the GET began.
        Map<List<Long>, long[]> maxEnd = new HashMap<>();
        writesOf.forEach((k, l) -> {
            long[] m = new long[l.size()];
            long max = Long.MIN_VALUE;
            for (int i = 0; i < l.size(); i++) {
                max = Math.max(max, l.get(i).t1());
                m[i] = max;
            }
            maxEnd.put(k, m);
        });
        for (Harvest g : gets) {
            SlotMirror s = slots.get(g.slot());
            for (long p : g.pages()) {
                List<Long> key = List.of(g.slot(), p);
                long since = Long.MIN_VALUE;
                for (Clear c : clearsOf.getOrDefault(key, List.of())) {
                    if (c.t0() >= g.t0()) {
                        break;
                    }
                    since = c.t0();
                }
                List<Write> ws = writesOf.getOrDefault(key, List.of());
                int last = -1;
                for (int lo = 0, hi = ws.size() - 1; lo <= hi; ) {
                    int mid = (lo + hi) >>> 1;
                    if (ws.get(mid).t0() < g.t1()) {
                        last = mid;
                        lo = mid + 1;
                    } else {
                        hi = mid - 1;
                    }
                }
                boolean written = last >= 0 && maxEnd.get(key)[last] > since;
                boolean covered = covered(writers, s, p, since, g.t1());
                if (!written && !covered && (first == null || g.seq() < first.seq())) {
                    first = new Rejection(g.seq(), g.op(), "Precision: page " + p + " of slot " + g.slot()
                            + " reported by a manual-protect GET, but no write of it began before the GET returned and "
                            + "completed after the last CLEAR of it was invoked");
                }
            }
        }
        return new Outcome(writes.size(), gets.size() + clears.size(), Optional.ofNullable(first));
    }

    /** Returns true when a running writer could have written page {@code page} of slot {@code s} between {@code since} and {@code until}. */
    private static boolean covered(List<Writer> writers, SlotMirror s, long page, long since, long until) {
        if (s == null) {
            return false;
        }
        long gpa = s.gpa() + page * Translation.PAGE_SIZE;
        return writers.stream().anyMatch(wr -> gpa >= wr.firstGpa() && gpa < wr.firstGpa() + wr.pages() * Translation.PAGE_SIZE
                && wr.t0() < until && wr.t1() > since);
    }

    /** Returns the smallest of the sorted {@code starts} greater than {@code t}, or Long.MAX_VALUE. */
    private static long firstAfter(long[] starts, long t) {
        for (long x : starts) {
            if (x > t) {
                return x;
            }
        }
        return Long.MAX_VALUE;
    }

    /** Returns the index of the first of the GETs (sorted by start) invoked after {@code t}. */
    private static int firstGetAfter(List<Harvest> hs, long t) {
        int lo = 0;
        int hi = hs.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (hs.get(mid).t0() > t) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    private static TreeSet<Long> numbers(JsonNode list) {
        TreeSet<Long> r = new TreeSet<>();
        list.forEach(n -> r.add(n.asLong()));
        return r;
    }
}
