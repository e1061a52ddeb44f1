package org.dirtylog.conformance;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.dirtylog.spi.Capability;
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
 * contract's own behaviours); HarvestInvoke "get" is KVM_GET_DIRTY_LOG; HarvestFail is
 * KVM_GET_DIRTY_LOG of slot id KVM_CAP_NR_MEMSLOTS, which must fail.
 *
 * <p>The backend's GET returns at once, so the contract's harvest takes effect at its invocation;
 * writes TLC placed between HarvestInvoke and HarvestReturn run after the GET returned. The check
 * therefore keeps the contract's variables itself ({@code owed}, {@code touched} per slot, updated
 * by each action exactly as DirtyLogContract does) and removes from {@code owed} what the backend
 * actually reported, not what TLC chose: the guard of HarvestReturn, NoLostWrite
 * ({@code must \subseteq r}) and Precision ({@code r \subseteq may}), is checked on every GET.
 */
final class ContractReplayChecks {

    static final long NPAGES = 65;
    private static final long[] PAGE_INDEX = {0, 1, 64};
    private static final int SLOTS = 2;
    private static final int LOCATIONS = 3;

    private ContractReplayChecks() {
    }

    static void simulatedBehavioursHold(Scenario s) {
        List<ContractBehaviours.Behaviour> behaviours = ContractBehaviours.load();
        long base = s.layout().allocateGpa(LOCATIONS * NPAGES * KvmApi.PAGE_SIZE);
        boolean move = s.has(Capability.MEMSLOT_MOVE);
        int replayed = 0;
        int steps = 0;
        int harvests = 0;
        int skipped = 0;
        for (ContractBehaviours.Behaviour b : behaviours) {
            if (!move && b.steps().stream().anyMatch(st -> st.action().equals("MoveSlot"))) {
                skipped++;
                continue;
            }
            try (Scenario vm = s.fork()) {
                harvests += new Replay(vm, base, b).run();
            }
            replayed++;
            steps += b.steps().size();
        }
        s.recorder().summarise(replayed + " TLC behaviours of DirtyLogContract (" + steps + " steps, " + harvests
                + " GETs) held" + (skipped > 0 ? "; " + skipped + " behaviours that move a slot not replayed "
                + "(no MEMSLOT_MOVE)" : ""));
    }

    /** One behaviour on one VM, with the contract's variables the checks need. */
    private static final class Replay {
        private final Scenario vm;
        private final long base;
        private final ContractBehaviours.Behaviour behaviour;
        private final UserMemory[] memory = new UserMemory[SLOTS];
        private final UserMemory buffer;
        private final Map<Integer, Integer> loc = new HashMap<>();
        private final boolean[] logging = new boolean[SLOTS];
        private final List<Set<Long>> owed = List.of(new TreeSet<>(), new TreeSet<>());
        private final List<Set<Long>> touched = List.of(new TreeSet<>(), new TreeSet<>());
        private int opSlot = -1;

        Replay(Scenario vm, long base, ContractBehaviours.Behaviour behaviour) {
            this.vm = vm;
            this.base = base;
            this.behaviour = behaviour;
            for (int i = 0; i < SLOTS; i++) {
                memory[i] = vm.mmap(NPAGES * KvmApi.PAGE_SIZE);
            }
            buffer = vm.mmap(KvmApi.PAGE_SIZE);
        }

        /** Replays every step; returns the number of GETs. */
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
                    }
                    case "DeleteSlot" -> {
                        int slot = index(a.get(0), 's');
                        long gpa = base + loc.get(slot) * NPAGES * KvmApi.PAGE_SIZE;
                        Expect.value(vm.setUserMemoryRegion(new MemoryRegion(slot, 0, gpa, 0, memory[slot].address())),
                                0, where(st) + ": deleting slot " + slot);
                        loc.remove(slot);
                        logging[slot] = false;
                        owed.get(slot).clear();
                    }
                    case "MoveSlot" -> region(st, index(a.get(0), 's'), index(a.get(1), 'l'),
                            logging[index(a.get(0), 's')]);
                    case "SetLogging" -> {
                        int slot = index(a.get(0), 's');
                        logging[slot] = Boolean.parseBoolean(a.get(1).toLowerCase());
                        region(st, slot, loc.get(slot), logging[slot]);
                        owed.get(slot).clear();
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
                        opSlot = index(a.get(1), 's');
                        get(st, opSlot);
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

        /** HarvestInvoke and HarvestReturn of the contract: the GET's report against must and may. */
        private void get(ContractBehaviours.Step st, int slot) {
            Set<Long> must = new TreeSet<>(owed.get(slot));
            Set<Long> may = new TreeSet<>(must);
            may.addAll(touched.get(slot));
            touched.get(slot).clear();
            buffer.segment().fill((byte) 0);
            IoctlResult<Integer> r = vm.getDirtyLog(slot, buffer.address());
            if (!r.isOk()) {
                throw new RuleFailure(where(st) + ": KVM_GET_DIRTY_LOG of slot " + slot, "0", CallText.show(r));
            }
            Set<Long> got = new TreeSet<>(UserBitmap.readFrom(buffer.segment(), NPAGES).pages());
            if (!got.containsAll(must)) {
                throw new RuleFailure(where(st) + ": KVM_GET_DIRTY_LOG of slot " + slot
                        + " lost a write (NoLostWrite)", "pages " + must + " at least", "pages " + got);
            }
            if (!may.containsAll(got)) {
                throw new RuleFailure(where(st) + ": KVM_GET_DIRTY_LOG of slot " + slot
                        + " reported a page never written since the last harvest (Precision)",
                        "pages within " + may, "pages " + got);
            }
            owed.get(slot).removeAll(got);
        }

        private void region(ContractBehaviours.Step st, int slot, int location, boolean log) {
            long gpa = base + location * NPAGES * KvmApi.PAGE_SIZE;
            MemoryRegion region = new MemoryRegion(slot, log ? KvmApi.KVM_MEM_LOG_DIRTY_PAGES : 0, gpa,
                    NPAGES * KvmApi.PAGE_SIZE, memory[slot].address());
            Expect.value(vm.setUserMemoryRegion(region), 0, where(st) + ": " + vm.describe(region));
            loc.put(slot, location);
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
