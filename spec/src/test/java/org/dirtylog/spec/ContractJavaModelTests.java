package org.dirtylog.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

import org.dirtylog.conformance.model.Op;
import org.dirtylog.conformance.model.SpecModel;
import org.dirtylog.spi.KvmApi;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks the suite's Java contract model ({@link SpecModel}, the one MODEL-01 replays against
 * backends) against the TLA+ contract {@code DirtyLogContract}: the states the Java model
 * reaches from an empty VM equal TLC's states of the contract (its {@code -dump}) for the same
 * bounds, after this mapping.
 *
 * <ul>
 *   <li>Bounds: slot ids 0 and 1 ({@code s1}, {@code s2}), each at offset 0 of window 0 or 1
 *       ({@code l1}, {@code l2}) with its normal size and memory 0; writes to pages 0 and 1 of
 *       a window ({@code p1}, {@code p2}); GET and SWITCH with a good buffer, or (manual
 *       protect, with INITIALLY_SET) GET followed by KVM_CLEAR_DIRTY_LOG of the whole slot
 *       naming exactly the pages GET returned: the contract's one "getclear" harvest.</li>
 *   <li>A contract state is compared only when no harvest runs ({@code op = "none"}): the Java
 *       model is sequential, a harvest is one call.</li>
 *   <li>Compared per slot: whether it exists, its window ({@code loc}), its logging flag, and
 *       the pages a GET must report ({@code owed}; Java: {@code dirtyOf}, restricted to pages
 *       0 and 1; with INITIALLY_SET the Java slot's other pages are dirty too, set and cleared
 *       with these two). The contract's {@code touched}, {@code must}, {@code may} and
 *       {@code reported} (precision and the last report) have no state in the Java model.</li>
 *   <li>Not compared: invalid arguments (the contract has no errno other than a failed harvest,
 *       which changes nothing in either), overlapping offsets and size changes, -EFAULT buffers
 *       (the Java model's "may" set), and enabling manual protect after the first operation.</li>
 * </ul>
 */
class ContractJavaModelTests {

    private static final int[] SLOT_IDS = {0, 1};
    private static final int[] WINDOWS = {0, 1};
    private static final long[] PAGES = {0, 1};
    private static final long MANUAL = KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KvmApi.KVM_DIRTY_LOG_INITIALLY_SET;

    private static Path modelsDir;

    @BeforeAll
    static void findModels() {
        modelsDir = ModelManifest.findModelsDir(Path.of("")).orElseThrow();
    }

    @Test
    void theJavaModelReachesExactlyTheContractsIdleStatesWithGetAndSwitch() throws Exception {
        Set<String> tla = contractIdleStates("MCDirtyLogContractJava.cfg");
        Set<String> java = javaStates(false);
        assertEquals(tla, java, "TLA+ contract (left) and Java SpecModel (right) reach different states");
        assertTrue(java.contains("s1:l1:log:{p1,p2} s2:l2:log:{p2}"), "bounds too small to say anything: " + java.size());
    }

    @Test
    void theJavaModelReachesExactlyTheContractsIdleStatesWithManualProtectAndInitiallySet() throws Exception {
        Set<String> tla = contractIdleStates("MCDirtyLogContractJavaManual.cfg");
        Set<String> java = javaStates(true);
        assertEquals(tla, java, "TLA+ contract (left) and Java SpecModel (right) reach different states");
        assertTrue(java.contains("s1:l2:log:{p1,p2} s2:l1:log:{p2}"), "bounds too small to say anything: " + java.size());
    }

    /** Returns the projected states of the contract in which no harvest runs, from TLC's dump. */
    private static Set<String> contractIdleStates(String config) throws IOException, InterruptedException {
        Path work = Files.createDirectories(Path.of("target", "contract-dump").toAbsolutePath());
        Path dump = work.resolve(config.replace(".cfg", ""));
        Files.deleteIfExists(Path.of(dump + ".dump"));
        TlcResult result = new TlcRunner(work).run(modelsDir.resolve("contract"), "MCDirtyLogContract", config, 1,
                states -> { }, List.of("-dump", dump.toString()));
        assertEquals(TlcResult.HOLDS, result.verdict(), () -> config + ": " + result.error());
        List<Map<String, Object>> states = TlcStateDump.read(Path.of(dump + ".dump"));
        assertEquals(result.distinctStates(), states.size(), "the dump holds every distinct state");
        Set<String> projected = new TreeSet<>();
        for (Map<String, Object> s : states) {
            if (s.get("op").equals("none")) {
                projected.add(project(s));
            }
        }
        return projected;
    }

    @SuppressWarnings("unchecked")
    private static String project(Map<String, Object> state) {
        Map<String, Object> loc = (Map<String, Object>) state.get("loc");
        Map<String, Object> logging = (Map<String, Object>) state.get("logging");
        Map<String, Object> owed = (Map<String, Object>) state.get("owed");
        List<String> slots = new ArrayList<>();
        for (String s : List.of("s1", "s2")) {
            slots.add(loc.get(s).equals("none") ? s + ":-"
                    : s + ":" + loc.get(s) + ":" + (logging.get(s).equals("TRUE") ? "log" : "off") + ":"
                            + "{" + String.join(",", (Set<String>) owed.get(s)) + "}");
        }
        return String.join(" ", slots);
    }

    /** Returns the projected states the Java model reaches from an empty VM, breadth first. */
    private static Set<String> javaStates(boolean manual) {
        List<Consumer<SpecModel>> moves = moves(manual);
        Map<String, List<Consumer<SpecModel>>> seen = new HashMap<>();
        Deque<List<Consumer<SpecModel>>> queue = new ArrayDeque<>();
        List<Consumer<SpecModel>> start = List.of();
        seen.put(project(replay(start, manual)), start);
        queue.add(start);
        while (!queue.isEmpty()) {
            List<Consumer<SpecModel>> path = queue.poll();
            for (Consumer<SpecModel> move : moves) {
                List<Consumer<SpecModel>> next = new ArrayList<>(path);
                next.add(move);
                String key = project(replay(next, manual));
                if (!seen.containsKey(key)) {
                    seen.put(key, next);
                    queue.add(next);
                }
            }
        }
        return new TreeSet<>(seen.keySet());
    }

    private static SpecModel replay(List<Consumer<SpecModel>> path, boolean manual) {
        SpecModel model = manual ? new SpecModel(MANUAL) : new SpecModel();
        if (manual) {
            model.apply(new Op.EnableManualProtect(0, MANUAL));
            assertTrue(model.manualProtect(), "manual protect is on");
        }
        path.forEach(move -> move.accept(model));
        return model;
    }

    private static List<Consumer<SpecModel>> moves(boolean manual) {
        List<Consumer<SpecModel>> moves = new ArrayList<>();
        for (int slot : SLOT_IDS) {
            for (int window : WINDOWS) {
                for (int flags : new int[] {0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES}) {
                    moves.add(m -> m.apply(new Op.SetRegion(slot, flags, window, 0, false, SpecModel.sizeOf(slot), 0)));
                }
                for (long page : PAGES) {
                    moves.add(m -> m.apply(new Op.Write(0, window, page)));
                }
            }
            moves.add(m -> m.apply(new Op.SetRegion(slot, 0, 0, 0, false, 0, 0)));
            if (manual) {
                moves.add(m -> {
                    List<Long> got = new ArrayList<>(m.dirtyOf(slot));
                    m.apply(new Op.Get(slot, false));
                    m.apply(new Op.Clear(slot, 0, SpecModel.sizeOf(slot), got, false));
                });
            } else {
                moves.add(m -> m.apply(new Op.Get(slot, false)));
                moves.add(m -> m.apply(new Op.Switch(slot)));
            }
        }
        return moves;
    }

    private static String project(SpecModel model) {
        List<String> slots = new ArrayList<>();
        for (int slot : SLOT_IDS) {
            String name = "s" + (slot + 1);
            if (!model.exists(slot)) {
                slots.add(name + ":-");
                continue;
            }
            long window = model.startOf(slot) / SpecModel.WINDOW_PAGES;
            List<String> owed = new ArrayList<>();
            for (long page : PAGES) {
                if (model.dirtyOf(slot).contains(page)) {
                    owed.add("p" + (page + 1));
                }
            }
            slots.add(name + ":l" + (window + 1) + ":" + (model.logged(slot) ? "log" : "off") + ":{"
                    + String.join(",", owed) + "}");
        }
        return String.join(" ", slots);
    }
}
