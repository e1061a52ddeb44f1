package org.dirtylog.conformance;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.DirtyGfn;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserMemory;

/**
 * The rule driven by the TLA+ contract: behaviours of {@code DirtyLogContract} from
 * {@code TLC -simulate} ({@link ContractBehaviours}) replayed against the backend, one fresh VM
 * per behaviour.
 *
 * <p>Mapping: slot {@code sN} is slot id N - 1 of {@value #NPAGES} pages with its own user
 * memory; location {@code lN} is the (N - 1)-th window of {@value #NPAGES} pages above one
 * allocated base; pages {@code p1, p2, p3} are page indexes 0, 1 and 64 (the second bitmap word).
 * CreateSlot, MoveSlot, SetLogging and DeleteSlot are KVM_SET_USER_MEMORY_REGION calls; Write
 * and Touch are one guest write each on vCPU 0 (a Touch the state difference left in the resource
 * is a write whose completion changes nothing the contract owes, so writing it is one of the
 * contract's own behaviours); HarvestFail is KVM_GET_DIRTY_LOG of slot id KVM_CAP_NR_MEMSLOTS,
 * which must fail. HarvestInvoke is the harvest of its kind, each behaviour drawn by TLC with one
 * kind: "get" is KVM_GET_DIRTY_LOG; "switch" is KVM_SWITCH_DIRTY_LOG and a read of the cold
 * bitmap (the addresses asked again after each region update of the slot); "getclear" is
 * KVM_GET_DIRTY_LOG then KVM_CLEAR_DIRTY_LOG of exactly what it returned, with manual protect
 * enabled when the VM is made; "ring" is a whole ring harvest (kick, collect every vCPU's ring,
 * KVM_RESET_DIRTY_RINGS), the ring enabled when the VM is made. One ring harvest collects the
 * entries of every slot: user space keeps those of the other slot for that slot's next harvest
 * (a move keeps them, as it keeps the bitmap) and drops them when the slot gets a new dirty log
 * or none (created, logging turned on or off, deleted), as the contract drops what is owed. A behaviour whose kind the
 * backend lacks is not replayed, and the summary says how many and why.
 *
 * <p>The backend's harvest returns at once, so the contract's harvest takes effect at its
 * invocation; writes TLC placed between HarvestInvoke and HarvestReturn run after it returned.
 * The check therefore keeps the contract's variables itself ({@code owed}, {@code touched} per
 * slot, updated by each action exactly as DirtyLogContract does) and removes from {@code owed}
 * what the backend actually reported, not what TLC chose: the guard of HarvestReturn, NoLostWrite
 * ({@code must \subseteq r}) and Precision ({@code r \subseteq may}), is checked on every harvest.
 */
final class ContractReplayChecks {

    static final long NPAGES = 65;
    private static final long[] PAGE_INDEX = {0, 1, 64};
    private static final int SLOTS = 2;
    private static final int LOCATIONS = 3;

    private ContractReplayChecks() {
    }

    /** The contract's harvest kinds and the suite's harvest styles that replay them. */
    private static final Map<String, Harvester.Style> KINDS = Map.of("get", Harvester.Style.GET, "switch",
            Harvester.Style.SWITCH, "getclear", Harvester.Style.GET_CLEAR, "ring", Harvester.Style.RING);

    static void simulatedBehavioursHold(Scenario s) {
        List<ContractBehaviours.Behaviour> behaviours = ContractBehaviours.load();
        long base = s.layout().allocateGpa(LOCATIONS * NPAGES * KvmApi.PAGE_SIZE);
        boolean move = s.has(Capability.MEMSLOT_MOVE);
        int replayed = 0;
        int steps = 0;
        Map<String, Integer> harvests = new LinkedHashMap<>();
        Map<String, Integer> skipped = new LinkedHashMap<>();
        for (ContractBehaviours.Behaviour b : behaviours) {
            Harvester.Style style = KINDS.get(b.kind());
            if (style == null) {
                throw new IllegalStateException("behaviour " + b.number() + " has an unknown harvest kind " + b.kind());
            }
            if (!s.has(style.needs())) {
                skipped.merge("of kind " + b.kind() + " (no " + style.needs().label() + ")", 1, Integer::sum);
                continue;
            }
            if (!move && b.steps().stream().anyMatch(st -> st.action().equals("MoveSlot"))) {
                skipped.merge("that move a slot (no " + Capability.MEMSLOT_MOVE.label() + ")", 1, Integer::sum);
                continue;
            }
            try (Scenario vm = s.fork()) {
                harvests.merge(style.label(), new Replay(vm, base, b, style).run(), Integer::sum);
            }
            replayed++;
            steps += b.steps().size();
        }
        StringBuilder done = new StringBuilder();
        harvests.forEach((label, n) -> done.append(done.isEmpty() ? "" : ", ").append(n).append(' ').append(label));
        StringBuilder left = new StringBuilder();
        skipped.forEach((why, n) -> left.append(left.isEmpty() ? "" : ", ").append(n).append(' ').append(why));
        s.recorder().summarise(replayed + " TLC behaviours of DirtyLogContract (" + steps + " steps; harvests: " + done
                + ") held" + (left.isEmpty() ? "" : "; not replayed: " + left));
    }

    /** One behaviour on one VM, with the contract's variables the checks need. */
    private static final class Replay {
        private final Scenario vm;
        private final long base;
        private final ContractBehaviours.Behaviour behaviour;
        private final Harvester.Style style;
        /** The SWITCH harvester of each slot, made when the slot is first harvested after a region update. */
        private final Harvester.Switch[] switches = new Harvester.Switch[SLOTS];
        /** The ring's collector (kind "ring"), else null. */
        private final RingCollector ring;
        /** Per slot, pages a ring harvest of the other slot collected: reported by this slot's next harvest. */
        private final List<Set<Long>> collected = List.of(new TreeSet<>(), new TreeSet<>());
        private final UserMemory[] memory = new UserMemory[SLOTS];
        private final UserMemory buffer;
        private final Map<Integer, Integer> loc = new HashMap<>();
        private final boolean[] logging = new boolean[SLOTS];
        private final List<Set<Long>> owed = List.of(new TreeSet<>(), new TreeSet<>());
        private final List<Set<Long>> touched = List.of(new TreeSet<>(), new TreeSet<>());
        private int opSlot = -1;

        Replay(Scenario vm, long base, ContractBehaviours.Behaviour behaviour, Harvester.Style style) {
            this.vm = vm;
            this.base = base;
            this.behaviour = behaviour;
            this.style = style;
            if (style == Harvester.Style.GET_CLEAR) {
                // The contract's InitiallySet is FALSE in these behaviours: manual protect alone.
                vm.enableManualProtect(KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
            }
            // The ring must be on before the first vCPU, which the first write creates.
            this.ring = style == Harvester.Style.RING ? new RingCollector(vm, DirtyRings.enableSmallest(vm)) : null;
            for (int i = 0; i < SLOTS; i++) {
                memory[i] = vm.mmap(NPAGES * KvmApi.PAGE_SIZE);
            }
            buffer = vm.mmap(KvmApi.PAGE_SIZE);
        }

        /** Replays every step; returns the number of harvests. */
        int run() {
            int harvests = 0;
            for (ContractBehaviours.Step st : behaviour.steps()) {
                List<String> a = st.args();
                switch (st.action()) {
                    case "CreateSlot" -> {
                        int slot = index(a.get(0), 's');
                        logging[slot] = Boolean.parseBoolean(a.get(2).toLowerCase());
                        region(st, slot, index(a.get(1), 'l'), logging[slot]);
                        owed.get(slot).clear();
                        collected.get(slot).clear();
                    }
                    case "DeleteSlot" -> {
                        int slot = index(a.get(0), 's');
                        long gpa = base + loc.get(slot) * NPAGES * KvmApi.PAGE_SIZE;
                        Expect.value(vm.setUserMemoryRegion(new MemoryRegion(slot, 0, gpa, 0, memory[slot].address())),
                                0, where(st) + ": deleting slot " + slot);
                        loc.remove(slot);
                        logging[slot] = false;
                        owed.get(slot).clear();
                        switches[slot] = null;
                        collected.get(slot).clear();
                    }
                    case "MoveSlot" -> region(st, index(a.get(0), 's'), index(a.get(1), 'l'),
                            logging[index(a.get(0), 's')]);
                    case "SetLogging" -> {
                        int slot = index(a.get(0), 's');
                        logging[slot] = Boolean.parseBoolean(a.get(1).toLowerCase());
                        region(st, slot, loc.get(slot), logging[slot]);
                        owed.get(slot).clear();
                        collected.get(slot).clear();
                    }
                    case "Write", "Touch" -> {
                        int slot = index(a.get(0), 's');
                        long page = PAGE_INDEX[index(a.get(1), 'p')];
                        write(st, slot, page);
                        if (st.action().equals("Write") && logging[slot]) {
                            owed.get(slot).add(page);
                        }
                        touched.get(slot).add(page);
                    }
                    case "HarvestInvoke" -> {
                        if (!a.get(0).equals(behaviour.kind())) {
                            throw new IllegalStateException(where(st) + ": a harvest of kind " + a.get(0) + " in a behaviour "
                                    + "of kind " + behaviour.kind());
                        }
                        opSlot = index(a.get(1), 's');
                        harvest(st, opSlot);
                        harvests++;
                    }
                    case "HarvestReturn" -> opSlot = -1;
                    case "HarvestFail" -> {
                        IoctlResult<Integer> r = vm.getDirtyLog(vm.nrMemslots(), buffer.address());
                        if (r.isOk()) {
                            throw new RuleFailure(where(st) + ": KVM_GET_DIRTY_LOG of slot id KVM_CAP_NR_MEMSLOTS ("
                                    + vm.nrMemslots() + ")", "an errno", CallText.show(r));
                        }
                    }
                    default -> throw new IllegalStateException("unknown contract action " + st.action());
                }
            }
            return harvests;
        }

        /** HarvestInvoke and HarvestReturn of the contract: the harvest's report against must and may. */
        private void harvest(ContractBehaviours.Step st, int slot) {
            Set<Long> must = new TreeSet<>(owed.get(slot));
            Set<Long> may = new TreeSet<>(must);
            may.addAll(touched.get(slot));
            touched.get(slot).clear();
            Set<Long> got = switch (style) {
                case GET -> get(st, slot);
                case SWITCH -> new TreeSet<>(switchOf(slot).harvest().pages());
                case GET_CLEAR -> new TreeSet<>(new Harvester.GetClear(vm, slotOf(slot)).harvest().pages());
                case RING -> ringHarvest(slot);
            };
            String what = style.label() + " harvest of slot " + slot;
            if (!got.containsAll(must)) {
                throw new RuleFailure(where(st) + ": the " + what + " lost a write (NoLostWrite)", "pages " + must
                        + " at least", "pages " + got);
            }
            if (!may.containsAll(got)) {
                throw new RuleFailure(where(st) + ": the " + what + " reported a page never written since the last "
                        + "harvest (Precision)", "pages within " + may, "pages " + got);
            }
            owed.get(slot).removeAll(got);
        }

        private Set<Long> get(ContractBehaviours.Step st, int slot) {
            buffer.segment().fill((byte) 0);
            IoctlResult<Integer> r = vm.getDirtyLog(slot, buffer.address());
            if (!r.isOk()) {
                throw new RuleFailure(where(st) + ": KVM_GET_DIRTY_LOG of slot " + slot, "0", CallText.show(r));
            }
            return new TreeSet<>(UserBitmap.readFrom(buffer.segment(), NPAGES).pages());
        }

        /** Returns the SWITCH harvester of {@code slot}, asking for its bitmap addresses after a region update. */
        private Harvester.Switch switchOf(int slot) {
            if (switches[slot] == null) {
                switches[slot] = Harvester.Switch.start(vm, slotOf(slot));
            }
            return switches[slot];
        }

        /**
         * A whole ring harvest; returns the pages of {@code slot} it and earlier harvests of the
         * other slot collected. Entries of other address spaces or slot ids are not this
         * behaviour's; an offset past the slot is reported as it is, for Precision to judge.
         */
        private Set<Long> ringHarvest(int slot) {
            for (RingCollector.Harvested h : ring.harvest(() -> { }).taken()) {
                DirtyGfn e = h.entry();
                if (e.asId() == 0 && e.id() >= 0 && e.id() < SLOTS) {
                    collected.get(e.id()).add(e.offset());
                }
            }
            Set<Long> got = new TreeSet<>(collected.get(slot));
            collected.get(slot).clear();
            return got;
        }

        /** The slot as the scenario's harvesters take it: where it is now, with its own memory. */
        private Scenario.Slot slotOf(int slot) {
            long gpa = base + loc.get(slot) * NPAGES * KvmApi.PAGE_SIZE;
            return new Scenario.Slot(slot, gpa, NPAGES, logging[slot] ? KvmApi.KVM_MEM_LOG_DIRTY_PAGES : 0, memory[slot]);
        }



        private void region(ContractBehaviours.Step st, int slot, int location, boolean log) {
            long gpa = base + location * NPAGES * KvmApi.PAGE_SIZE;
            MemoryRegion region = new MemoryRegion(slot, log ? KvmApi.KVM_MEM_LOG_DIRTY_PAGES : 0, gpa,
                    NPAGES * KvmApi.PAGE_SIZE, memory[slot].address());
            Expect.value(vm.setUserMemoryRegion(region), 0, where(st) + ": " + vm.describe(region));
            loc.put(slot, location);
            // Asked again after any update; a move keeps the bitmap but user space does not rely on its addresses.
            switches[slot] = null;
        }

        private void write(ContractBehaviours.Step st, int slot, long page) {
            long gpa = base + (loc.get(slot) * NPAGES + page) * KvmApi.PAGE_SIZE;
            IoctlResult<Integer> r = vm.runWrites(0, List.of(new GuestWrite(gpa, vm.layout().nextValue())),
                    "page " + page + " of slot " + slot);
            if (!r.isOk() || r.value() != 1) {
                throw new BackendError(where(st) + ": the guest write to gpa 0x" + Long.toHexString(gpa)
                        + " failed: " + CallText.show(r));
            }
        }

        private String where(ContractBehaviours.Step st) {
            return "behaviour " + behaviour.number() + ", TLC state " + st.state() + " (" + st.describe() + ")";
        }
    }

    /** Returns N - 1 for a contract constant {@code xN}. */
    private static int index(String constant, char prefix) {
        if (constant.isEmpty() || constant.charAt(0) != prefix) {
            throw new IllegalArgumentException("not a " + prefix + "N constant: " + constant);
        }
        return Integer.parseInt(constant.substring(1)) - 1;
    }
}
