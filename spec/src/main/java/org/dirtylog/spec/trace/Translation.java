package org.dirtylog.spec.trace;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the recorded events of one behaviour (one VM) into the contract actions that must
 * explain them, in order ({@link Element}s of module {@code DirtyLogContractTrace}). It keeps a
 * mirror of what user space knows: the memslots as the successful region updates left them (to
 * tell a create from a move or a logging change, and to map a guest address to a slot and page),
 * and the two bitmap addresses of each switch-style slot (to know which read is the cold bitmap's).
 * The mirror decides only which action to name; whether the contract allows it is TLC's question.
 *
 * <p>Manual protect maps to the contract's kind {@code "manual"}: a GET with manual protect on is
 * {@code ManualGet} (nothing discharged), a CLEAR that returned 0 is {@code ManualClear} of the
 * pages its user bitmap named. A bitmap allocated under {@code KVM_DIRTY_LOG_INITIALLY_SET} (a
 * slot created with logging, or logging turned on, while it is enabled) starts with every page of
 * the slot set: the translation names it {@code InitiallySetBitmap} of pages {@code 0..npages-1}
 * right after the region update (the contract's constant {@code InitiallySet} gives every slot the
 * one page set {@code Pages}, while real slots differ in size).
 *
 * <p>The dirty ring maps to the contract's kind {@code "ring"}. Its result is what the suite's
 * collector took from ring memory ({@code collect_ring} events, one per vCPU ring); a harvest is
 * the collections since the last {@code KVM_RESET_DIRTY_RINGS} and ends at the next one, since
 * user space has taken a page only once the reset re-armed it (api.rst 8.29: a page written
 * after its entry was collected and before the reset pushes nothing and is read after the reset).
 * It is invoked when the first ring is collected and returns, for each logged slot, the pages of
 * that slot the entries named (entries of other address spaces or of slots without a dirty log
 * are ignored, as user space must: they may be stale). One ring harvest covers every logged
 * slot while the contract harvests one at a time, so each slot's invoke and return are placed
 * back to back at the reset, which is exact when no guest write fell between the first
 * collection and the reset; with writes in between, only a VM with one logged slot is placed
 * (its invoke at the first collection).
 *
 * <p>A behaviour the contract cannot express is skipped with the reason: calls that overlap in
 * time (concurrent vCPUs or writers, whose order the trace does not fix), and ring harvests that
 * are not whole harvests: a reset after collecting only some vCPUs' rings, a reset of entries
 * user space marked RESET itself (the trace does not say which pages they named), entries
 * collected and never reset, or another call between a collection and its reset.
 */
final class Translation {

    static final long PAGE_SIZE = 4096;
    private static final long LOG_DIRTY_PAGES = 1;
    private static final long MANUAL_PROTECT_ENABLE = 1;
    private static final long INITIALLY_SET = 2;
    /** A ring entry's slot field is {@code as_id << 16 | id}. */
    private static final int ADDRESS_SPACE_SHIFT = 16;

    /**
     * One element of a behaviour: the contract action (a TLA+ record) explaining part of event
     * {@code seq}, a call of {@code op}.
     */
    record Element(long seq, String op, String tla) {

        private static final Pattern FIELD = Pattern.compile("(\\w+) \\|-> (\"[^\"]*\"|\\{[^}]*\\}|[^,\\]]+)");

        /** Returns the contract action with its arguments, e.g. {@code HarvestReturn({1, 3})}. */
        String action() {
            Map<String, String> f = new HashMap<>();
            Matcher m = FIELD.matcher(tla);
            while (m.find()) {
                f.put(m.group(1), m.group(2));
            }
            return switch (f.getOrDefault("a", "")) {
                case "\"create\"" -> "CreateSlot(" + f.get("s") + ", " + f.get("l") + ", " + f.get("on") + ")";
                case "\"delete\"" -> "DeleteSlot(" + f.get("s") + ")";
                case "\"move\"" -> "MoveSlot(" + f.get("s") + ", " + f.get("l") + ")";
                case "\"logging\"" -> "SetLogging(" + f.get("s") + ", " + f.get("on") + ")";
                case "\"touch\"" -> "Touch(" + f.get("s") + ", " + f.get("p") + ")";
                case "\"write\"" -> "Write(" + f.get("s") + ", " + f.get("p") + ")";
                case "\"invoke\"" -> "HarvestInvoke(" + f.get("k") + ", " + f.get("s") + ")";
                case "\"fail\"" -> "HarvestFail(" + f.get("k") + ", " + f.get("s") + ")";
                case "\"return\"" -> "HarvestReturn(" + f.get("r") + ")";
                case "\"mget\"" -> "ManualGet(" + f.get("s") + ", " + f.get("r") + ")";
                case "\"mclear\"" -> "ManualClear(" + f.get("s") + ", " + f.get("ps") + ")";
                case "\"iset\"" -> "InitiallySetBitmap(" + f.get("s") + ", " + f.get("ps") + ")";
                case "\"unobserved\"" -> "HarvestReturn(r) for some r user space did not read";
                case "\"maybe_invoke\"" -> "HarvestInvoke(" + f.get("k") + ", " + f.get("s") + ") or HarvestFail";
                case "\"maybe_return\"" -> "HarvestReturn(r) for some r user space did not read, if the harvest ran";
                default -> "a step that changes nothing";
            };
        }
    }

    /**
     * A behaviour ready for TLC, or the reason it is not checked.
     *
     * @param elements the actions in order
     * @param skipped why the behaviour is not checked by TLC, if it is not
     * @param overlapping whether it is skipped because its calls overlap in time ({@link WindowCheck} judges those)
     * @param slots slot ids the elements name
     * @param pages pages the elements name
     * @param locations guest addresses the elements name, as TLA+ strings
     */
    record Behaviour(List<Element> elements, Optional<String> skipped, boolean overlapping, TreeSet<Long> slots,
                     TreeSet<Long> pages, TreeSet<String> locations) {
    }

    private record SlotMirror(long gpa, long npages, long flags) {
        boolean logged() {
            return (flags & LOG_DIRTY_PAGES) != 0;
        }
    }

    /** The user-space view of a switch-style slot: where the bitmap being filled and the cold one are. */
    private record Bitmaps(long active, long cold) {
    }

    private final List<Element> out = new ArrayList<>();
    private final TreeSet<Long> slots = new TreeSet<>();
    private final TreeSet<Long> pages = new TreeSet<>(List.of(0L));
    private final TreeSet<String> locations = new TreeSet<>();
    private final Map<Long, SlotMirror> mirror = new HashMap<>();
    private final Map<Long, Bitmaps> bitmaps = new HashMap<>();
    private boolean manual;
    /** KVM_DIRTY_LOG_INITIALLY_SET is on: a bitmap allocated now starts with every page set. */
    private boolean initiallySet;
    /** The slot of a SWITCH whose cold bitmap is not read yet, or null. */
    private Long switched;
    private long lastReturn = Long.MIN_VALUE;
    private String currentOp = "";
    /** vCPUs created (KVM_CREATE_VCPU returned a descriptor): a whole ring harvest collects each one's ring. */
    private final TreeSet<Long> vcpus = new TreeSet<>();
    /** vCPUs whose ring was collected since the last KVM_RESET_DIRTY_RINGS. */
    private final TreeSet<Long> collectedFrom = new TreeSet<>();
    /** Slot id (address space 0) to the offsets the collections since the last reset took. */
    private final Map<Long, TreeSet<Long>> collected = new HashMap<>();
    /** Where in {@link #out} the first collection since the last reset happened, or -1 when none did. */
    private int ringOpenAt = -1;
    private long ringOpenSeq;

    private Translation() {
    }

    /** Returns the contract actions explaining {@code events} (one behaviour, in seq order), or why they are not checked. */
    static Behaviour of(List<JsonNode> events) {
        Translation t = new Translation();
        Optional<String> skipped = Optional.empty();
        boolean overlapping = false;
        try {
            for (JsonNode e : events) {
                t.accept(e);
            }
            t.settle(Long.MAX_VALUE);
            if (t.ringOpenAt >= 0) {
                throw new Skip("ring entries collected at seq " + t.ringOpenSeq + " are never reset: user space has "
                        + "taken a page only once KVM_RESET_DIRTY_RINGS re-armed it");
            }
        } catch (Skip s) {
            skipped = Optional.of(s.getMessage());
            overlapping = s instanceof Overlap;
        }
        if (t.slots.isEmpty()) {
            t.slots.add(0L);
        }
        if (t.locations.isEmpty()) {
            t.locations.add(location(0));
        }
        return new Behaviour(List.copyOf(t.out), skipped, overlapping, t.slots, t.pages, t.locations);
    }

    /** Why a behaviour is not checked. */
    static class Skip extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Skip(String why) {
            super(why, null, false, false);
        }
    }

    /** A behaviour whose calls overlap in time: no single order of its events exists to check. */
    static final class Overlap extends Skip {
        private static final long serialVersionUID = 1L;

        Overlap(String why) {
            super(why);
        }
    }

    private void accept(JsonNode e) {
        long seq = e.get("seq").asLong();
        long t0 = e.path("t0").asLong();
        if (t0 < lastReturn) {
            throw new Overlap("calls overlap in time (seq " + seq + " began before the call before it returned): "
                    + "concurrent calls are not ordered by the trace");
        }
        lastReturn = e.path("t1").asLong();
        String op = e.get("op").asText();
        currentOp = op;
        long ret = e.path("ret").asLong();
        if (!op.equals("read_bitmap")) {
            settle(seq);
        }
        if (ringOpenAt >= 0 && !RING_HARVEST_CALLS.contains(op)) {
            throw new Skip("ring entries collected at seq " + ringOpenSeq + " are not reset before seq " + seq + " (" + op
                    + "): a ring harvest with other calls inside it");
        }
        switch (op) {
            case "KVM_SET_USER_MEMORY_REGION" -> region(seq, e, ret);
            case "KVM_RUN" -> run(seq, e, ret);
            case "KVM_GET_DIRTY_LOG" -> get(seq, e, ret);
            case "KVM_SWITCH_DIRTY_LOG" -> switchLog(seq, e, ret);
            case "KVM_GET_USER_DIRTY_LOG_ADDR" -> {
                if (ret == 0 && e.has("dirty_bitmap")) {
                    bitmaps.put(e.get("slot").asLong(), new Bitmaps(e.get("dirty_bitmap").asLong(),
                            e.get("dirty_bitmap_old").asLong()));
                }
            }
            case "read_bitmap" -> read(seq, e);
            case "KVM_CLEAR_DIRTY_LOG" -> clear(seq, e, ret);
            case "KVM_ENABLE_CAP" -> enableCap(e, ret);
            case "writer_start", "writer_stop" -> throw new Overlap("vCPU writers run while other calls are made (seq " + seq
                    + "): which page each write touched and when is not in the trace");
            case "KVM_CREATE_VCPU" -> {
                if (ret >= 0) {
                    vcpus.add(e.get("vcpu").asLong());
                }
            }
            case "collect_ring" -> collectRing(seq, e);
            case "KVM_RESET_DIRTY_RINGS" -> resetRings(seq, ret);
            default -> {
                // KVM_CHECK_EXTENSION, mmap, mmap_dirty_ring, kick: nothing the contract sees.
            }
        }
    }

    /** Calls that may come between a ring collection and its reset: the guest running, kicks, more collections. */
    private static final Set<String> RING_HARVEST_CALLS = Set.of("KVM_RUN", "kick", "collect_ring",
            "KVM_RESET_DIRTY_RINGS", "mmap_dirty_ring", "KVM_CHECK_EXTENSION");

    /** Ends a SWITCH whose cold bitmap was not read before event {@code seq}: it returned something allowed. */
    private void settle(long seq) {
        if (switched != null) {
            emit(seq, "[a |-> \"unobserved\"]");
            switched = null;
        }
    }

    private void region(long seq, JsonNode e, long ret) {
        long slot = e.get("slot").asLong();
        if (ret != 0) {
            emit(seq, "[a |-> \"same\"]");
            return;
        }
        bitmaps.remove(slot);
        long gpa = e.get("guest_phys_addr").asLong();
        long size = e.get("memory_size").asLong();
        long flags = e.get("flags").asLong();
        boolean on = (flags & LOG_DIRTY_PAGES) != 0;
        SlotMirror was = mirror.get(slot);
        slots.add(slot);
        if (size == 0) {
            if (was == null) {
                emit(seq, "[a |-> \"same\"]");
            } else {
                mirror.remove(slot);
                emit(seq, "[a |-> \"delete\", s |-> " + slot + "]");
            }
            return;
        }
        mirror.put(slot, new SlotMirror(gpa, size / PAGE_SIZE, flags));
        if (was == null) {
            emit(seq, "[a |-> \"create\", s |-> " + slot + ", l |-> " + place(gpa) + ", on |-> " + bool(on) + "]");
            initiallySetBitmap(seq, slot, on, size / PAGE_SIZE);
            return;
        }
        if (was.gpa() != gpa) {
            emit(seq, "[a |-> \"move\", s |-> " + slot + ", l |-> " + place(gpa) + "]");
        }
        if (was.logged() != on) {
            emit(seq, "[a |-> \"logging\", s |-> " + slot + ", on |-> " + bool(on) + "]");
            initiallySetBitmap(seq, slot, on, size / PAGE_SIZE);
        }
        if (was.gpa() == gpa && was.logged() == on) {
            emit(seq, "[a |-> \"same\"]");
        }
    }

    /** A bitmap just allocated for {@code slot} with logging {@code on}: under INITIALLY_SET all its {@code npages} pages are set. */
    private void initiallySetBitmap(long seq, long slot, boolean on, long npages) {
        if (on && initiallySet && npages > 0) {
            emit(seq, "[a |-> \"iset\", s |-> " + slot + ", ps |-> 0.." + (npages - 1) + "]");
        }
    }

    /**
     * Guest writes: each write the vCPU reports done completed inside the call (Write); when the
     * call failed, how many were done is unknown, so each may have begun (Touch). When the vCPU
     * exited before its last write (a full dirty ring, for one), the first write not done may
     * have begun too: its fault may have logged the page before the exit (Touch). A write outside
     * every slot touches no dirty log.
     */
    private void run(long seq, JsonNode e, long ret) {
        JsonNode gpas = e.get("gpas");
        if (ret < 0) {
            gpas.forEach(g -> guestWrite(seq, "touch", g.asLong()));
            return;
        }
        long done = e.has("done") ? e.get("done").asLong() : ret;
        int n = (int) Math.min(done, gpas.size());
        for (int k = 0; k < n; k++) {
            guestWrite(seq, "write", gpas.get(k).asLong());
        }
        if (n < gpas.size()) {
            guestWrite(seq, "touch", gpas.get(n).asLong());
        }
    }

    /** Emits {@code action} (write or touch) of the page at guest address {@code gpa}, if a slot holds it. */
    private void guestWrite(long seq, String action, long gpa) {
        for (Map.Entry<Long, SlotMirror> m : mirror.entrySet()) {
            SlotMirror s = m.getValue();
            if (gpa >= s.gpa() && gpa < s.gpa() + s.npages() * PAGE_SIZE) {
                long page = (gpa - s.gpa()) / PAGE_SIZE;
                pages.add(page);
                emit(seq, "[a |-> \"" + action + "\", s |-> " + m.getKey() + ", p |-> " + page + "]");
                return;
            }
        }
    }

    private void get(long seq, JsonNode e, long ret) {
        long slot = e.get("slot").asLong();
        SlotMirror s = mirror.get(slot);
        if (manual) {
            // With manual protect a GET discharges nothing: one whose result user space did not
            // see (not read, or -EFAULT) changes nothing the contract sees.
            if (ret == 0 && e.hasNonNull("pages")) {
                slots.add(slot);
                TreeSet<Long> r = numbers(e.get("pages"));
                pages.addAll(r);
                emit(seq, "[a |-> \"mget\", s |-> " + slot + ", r |-> {" + join(r) + "}]");
            } else if (ret == 0 || (e.path("errno").asText().equals("EFAULT") && s != null && s.logged())) {
                emit(seq, "[a |-> \"same\"]");
            } else {
                emit(seq, "[a |-> \"fail\", k |-> \"manual\", s |-> " + slot + "]");
            }
            return;
        }
        if (ret == 0) {
            slots.add(slot);
            emit(seq, "[a |-> \"invoke\", k |-> \"get\", s |-> " + slot + "]");
            emit(seq, e.hasNonNull("pages") ? returned(e.get("pages")) : "[a |-> \"unobserved\"]");
        } else if (e.path("errno").asText().equals("EFAULT") && s != null && s.logged()) {
            // The copy to user space failed: the harvest may have run (its pages then may or may
            // not be reported later, §2 G4) or failed before it changed anything.
            slots.add(slot);
            emit(seq, "[a |-> \"maybe_invoke\", k |-> \"get\", s |-> " + slot + "]");
            emit(seq, "[a |-> \"maybe_return\"]");
        } else {
            emit(seq, "[a |-> \"fail\", k |-> \"get\", s |-> " + slot + "]");
        }
    }

    /** SWITCH: 0 swapped the bitmaps (the result is the cold bitmap, read next), 1 the slot was clean. */
    private void switchLog(long seq, JsonNode e, long ret) {
        long slot = e.get("slot").asLong();
        if (ret == 0 || ret == 1) {
            slots.add(slot);
            emit(seq, "[a |-> \"invoke\", k |-> \"switch\", s |-> " + slot + "]");
            if (ret == 1) {
                emit(seq, "[a |-> \"return\", r |-> {}]");
                return;
            }
            Bitmaps b = bitmaps.get(slot);
            if (b != null) {
                bitmaps.put(slot, new Bitmaps(b.cold(), b.active()));
            }
            switched = slot;
        } else {
            emit(seq, "[a |-> \"fail\", k |-> \"switch\", s |-> " + slot + "]");
        }
    }

    /** A read of the cold bitmap of the slot just switched is that harvest's result. */
    private void read(long seq, JsonNode e) {
        if (switched == null) {
            return;
        }
        Bitmaps b = bitmaps.get(switched);
        if (b != null && b.cold() == e.get("addr").asLong() && e.path("ret").asLong() == 0 && e.hasNonNull("pages")) {
            emit(seq, returned(e.get("pages")));
            switched = null;
        }
    }

    /**
     * A CLEAR that returned 0 took the pages its user bitmap named (with manual protect on or
     * off: the kernel clears either way); one that failed changes nothing.
     */
    private void clear(long seq, JsonNode e, long ret) {
        if (ret != 0) {
            emit(seq, "[a |-> \"same\"]");
            return;
        }
        if (!e.hasNonNull("pages")) {
            throw new Skip("KVM_CLEAR_DIRTY_LOG at seq " + seq + " returned 0 from a bitmap the trace could not read");
        }
        long slot = e.get("slot").asLong();
        slots.add(slot);
        TreeSet<Long> ps = numbers(e.get("pages"));
        pages.addAll(ps);
        emit(seq, "[a |-> \"mclear\", s |-> " + slot + ", ps |-> {" + join(ps) + "}]");
    }

    /** The collector took entries from one vCPU's ring: the first collection since a reset invokes the ring harvest. */
    private void collectRing(long seq, JsonNode e) {
        if (ringOpenAt < 0) {
            ringOpenAt = out.size();
            ringOpenSeq = seq;
        }
        collectedFrom.add(e.get("vcpu").asLong());
        addCollected(collected, e);
    }

    /**
     * Adds what one {@code collect_ring} event took to {@code collected} (slot id to pages):
     * entries of address space 0 only, the one the suite's memslots live in.
     */
    static void addCollected(Map<Long, TreeSet<Long>> collected, JsonNode collectRing) {
        for (JsonNode s : collectRing.path("slots")) {
            long raw = s.get("slot").asLong();
            if (raw >>> ADDRESS_SPACE_SHIFT == 0) {
                collected.computeIfAbsent(raw, k -> new TreeSet<>()).addAll(numbers(s.get("pages")));
            }
        }
    }

    /**
     * KVM_RESET_DIRTY_RINGS: the end of the ring harvest begun at the first collection since the
     * last reset, one invoke and return per logged slot (see the class comment). A reset with
     * nothing collected is a harvest of nothing unless it reset entries anyway.
     */
    private void resetRings(long seq, long ret) {
        if (ringOpenAt < 0) {
            if (ret > 0) {
                throw new Skip("KVM_RESET_DIRTY_RINGS at seq " + seq + " reset " + ret + " entries the collector did not "
                        + "take (user space marked them RESET itself): which pages they named is not in the trace");
            }
            emit(seq, "[a |-> \"same\"]");
            return;
        }
        TreeSet<Long> missing = new TreeSet<>(vcpus);
        missing.removeAll(collectedFrom);
        if (!missing.isEmpty()) {
            throw new Skip("KVM_RESET_DIRTY_RINGS at seq " + seq + " after collecting the ring of vcpu " + join(collectedFrom)
                    + " and not of vcpu " + join(missing) + ": a partial ring harvest, which the contract's harvests "
                    + "(every owed page reported) do not express");
        }
        if (ret < 0) {
            throw new Skip("KVM_RESET_DIRTY_RINGS at seq " + seq + " failed after a collection: whether the pages "
                    + "collected were re-armed is not known");
        }
        List<Long> logged = mirror.entrySet().stream().filter(m -> m.getValue().logged()).map(Map.Entry::getKey)
                .sorted().toList();
        boolean writesBetween = out.size() > ringOpenAt;
        if (writesBetween && logged.size() > 1) {
            throw new Skip("guest writes between the ring collection at seq " + ringOpenSeq + " and KVM_RESET_DIRTY_RINGS "
                    + "at seq " + seq + " with " + logged.size() + " logged slots: one ring harvest covers them all, "
                    + "and the contract harvests one slot at a time");
        }
        for (long slot : logged) {
            slots.add(slot);
            String invoke = "[a |-> \"invoke\", k |-> \"ring\", s |-> " + slot + "]";
            if (writesBetween) {
                out.add(ringOpenAt, new Element(ringOpenSeq, "collect_ring", invoke));
            } else {
                emit(seq, invoke);
            }
            TreeSet<Long> r = collected.getOrDefault(slot, new TreeSet<>());
            pages.addAll(r);
            emit(seq, "[a |-> \"return\", r |-> {" + join(r) + "}]");
        }
        if (logged.isEmpty()) {
            emit(seq, "[a |-> \"same\"]");
        }
        ringOpenAt = -1;
        collectedFrom.clear();
        collected.clear();
    }

    private void enableCap(JsonNode e, long ret) {
        if (ret == 0 && e.path("cap").asText().equals("KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2")) {
            long args0 = e.get("args0").asLong();
            manual = (args0 & MANUAL_PROTECT_ENABLE) != 0;
            initiallySet = manual && (args0 & INITIALLY_SET) != 0;
        }
    }

    private String returned(JsonNode list) {
        TreeSet<Long> r = numbers(list);
        pages.addAll(r);
        return "[a |-> \"return\", r |-> {" + join(r) + "}]";
    }

    /** Returns the numbers as a TLA+ set's elements, {@code 1, 2, 3}. */
    static String join(TreeSet<Long> r) {
        StringBuilder b = new StringBuilder();
        for (long p : r) {
            b.append(b.isEmpty() ? "" : ", ").append(p);
        }
        return b.toString();
    }

    private static TreeSet<Long> numbers(JsonNode list) {
        TreeSet<Long> r = new TreeSet<>();
        list.forEach(n -> r.add(n.asLong()));
        return r;
    }

    private String place(long gpa) {
        String l = location(gpa);
        locations.add(l);
        return l;
    }

    /** Returns a guest address as a TLA+ string: the contract compares locations with its string NoSlot. */
    static String location(long gpa) {
        return "\"0x" + Long.toHexString(gpa) + "\"";
    }

    private static String bool(boolean b) {
        return b ? "TRUE" : "FALSE";
    }

    private void emit(long seq, String tla) {
        out.add(new Element(seq, currentOp, tla));
    }
}
