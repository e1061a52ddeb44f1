package org.dirtylog.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

/**
 * Checks that the suite's MODEL-02 resource is exactly what {@code TLC -simulate} of the
 * contract {@code DirtyLogContract} produces for its seed, depth and number of behaviours
 * (so the replayed behaviours cannot drift from the spec). With {@code -Dmodel02.write=true}
 * it rewrites the resource instead.
 *
 * <p>TLC's simulation files hold states, not action names: each step's action is derived from
 * the difference of two states. A step that changes nothing (a Touch of a page already touched,
 * a failed harvest after a failed or empty one) is left out; a Write that changes no {@code owed}
 * (logging off, or the page already owed) has the effect of a Touch and is written as one.
 */
class ContractBehavioursTests {

    static final long SEED = 20_261_201L;
    static final int DEPTH = 40;
    static final int BEHAVIOURS = 60;
    /**
     * Then, with the same seed and depth, behaviours drawn with each other harvest kind alone
     * (the contract's {@code Kinds} = {@code {kind}}), so MODEL-02 drives SWITCH, GET+CLEAR and
     * ring harvests from the spec too; a backend replays those whose kind it offers. The GET
     * behaviours come first and are the ones the resource held before the other kinds joined.
     */
    static final List<String> OTHER_KINDS = List.of("switch", "getclear", "ring");
    static final int BEHAVIOURS_PER_OTHER_KIND = 40;
    private static final String CONFIG = "MCDirtyLogContractSimulate.cfg";
    private static final String RESOURCE = "conformance-tests/suite/src/main/resources/org/dirtylog/conformance/"
            + "model02-behaviours.txt";

    @Test
    void theCheckedInBehavioursAreWhatTlcSimulatesWithTheirSeed() throws Exception {
        String generated = generate();
        Path root = ModelManifest.findModelsDir(Path.of("")).orElseThrow().getParent().getParent();
        Path resource = root.resolve(RESOURCE);
        if (Boolean.getBoolean("model02.write")) {
            Files.writeString(resource, generated);
        }
        assertEquals(generated, Files.readString(resource), RESOURCE + " differs from TLC -simulate; regenerate it "
                + "with -Dmodel02.write=true");
        assertTrue(generated.contains(" MoveSlot ") && generated.contains(" HarvestReturn {p"),
                "the behaviours move slots and report pages");
        for (String kind : OTHER_KINDS) {
            assertTrue(generated.contains(" HarvestInvoke " + kind + " "), "the behaviours harvest with " + kind);
        }
    }

    /** Returns the resource text for TLC's behaviours with {@link #SEED}, {@link #DEPTH}, {@link #BEHAVIOURS}. */
    static String generate() throws IOException, InterruptedException {
        Path work = Files.createDirectories(Path.of("target", "model02").toAbsolutePath());
        Path model = Files.createDirectories(work.resolve("model"));
        Path contract = ModelManifest.findModelsDir(Path.of("")).orElseThrow().resolve("contract");
        for (String tla : List.of("DirtyLogContract.tla", "MCDirtyLogContract.tla")) {
            Files.copy(contract.resolve(tla), model.resolve(tla), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        String config;
        try (InputStream cfg = ContractBehavioursTests.class.getResourceAsStream(CONFIG)) {
            config = new String(Objects.requireNonNull(cfg).readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(config.contains(GET_ONLY), CONFIG + " draws GET harvests: " + GET_ONLY);
        StringBuilder out = new StringBuilder();
        out.append("# MODEL-02: behaviours of spec/models/contract/DirtyLogContract.tla from TLC -simulate (seed ")
                .append(SEED).append(", -depth ").append(DEPTH).append(", Slots {s1, s2}, Pages {p1, p2, p3},\n")
                .append("# Locations {l1, l2, l3}, InitiallySet FALSE): ").append(BEHAVIOURS)
                .append(" behaviours with Kinds {\"get\"}, then ").append(BEHAVIOURS_PER_OTHER_KIND)
                .append(" each with Kinds {\"").append(String.join("\"}, {\"", OTHER_KINDS)).append("\"}.\n")
                .append("# Generated and checked by the spec module's ContractBehavioursTests; do not edit.\n")
                .append("# A block per behaviour (its number and harvest kind); a line per step: TLC's state number,\n")
                .append("# the contract action, its arguments.\n");
        int number = 0;
        List<String> kinds = new ArrayList<>(List.of("get"));
        kinds.addAll(OTHER_KINDS);
        for (String kind : kinds) {
            String cfgName = "MCDirtyLogContractSimulate-" + kind + ".cfg";
            Files.writeString(model.resolve(cfgName), config.replace(GET_ONLY, "Kinds = {\"" + kind + "\"}"));
            int count = kind.equals("get") ? BEHAVIOURS : BEHAVIOURS_PER_OTHER_KIND;
            Path traces = work.resolve("traces-" + kind);
            if (Files.exists(traces)) {
                try (var old = Files.list(traces)) {
                    for (Path p : old.toList()) {
                        Files.delete(p);
                    }
                }
            }
            Files.createDirectories(traces);
            TlcResult result = new TlcRunner(work.resolve("runs")).run(model, "MCDirtyLogContract", cfgName, 1, n -> { },
                    List.of("-simulate", "file=" + traces.resolve("b") + ",num=" + count, "-depth",
                            Integer.toString(DEPTH), "-seed", Long.toString(SEED)));
            assertTrue(result.error().isEmpty(), () -> "TLC -simulate (" + kind + "): " + result.error());
            for (int b = 0; b < count; b++) {
                List<Map<String, Object>> states = readStates(traces.resolve("b_0_" + b));
                assertEquals(DEPTH, states.size(), kind + " behaviour " + (b + 1) + " has -depth states");
                out.append("behaviour ").append(++number).append(' ').append(kind).append('\n');
                for (String line : initial(states.get(0))) {
                    out.append("1 ").append(line).append('\n');
                }
                for (int i = 1; i < states.size(); i++) {
                    String step = step(states.get(i - 1), states.get(i));
                    if (!step.isEmpty()) {
                        out.append(i + 1).append(' ').append(step).append('\n');
                    }
                }
            }
        }
        return out.toString();
    }

    /** The line of {@link #CONFIG} that each kind's run replaces. */
    private static final String GET_ONLY = "Kinds = {\"get\"}";

    /** Returns the states of one TLC simulation file ({@code STATE_n == /\ x = v ...}). */
    private static List<Map<String, Object>> readStates(Path file) throws IOException {
        List<Map<String, Object>> states = new ArrayList<>();
        StringBuilder body = null;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.startsWith("STATE_")) {
                if (body != null) {
                    states.add(TlcStateDump.parseState(body.toString()));
                }
                body = new StringBuilder();
            } else if (body != null && !line.startsWith("====")) {
                body.append(line).append(' ');
            }
        }
        if (body != null) {
            states.add(TlcStateDump.parseState(body.toString()));
        }
        return states;
    }

    /** Returns the CreateSlot actions that reach an initial state from the empty placement. */
    @SuppressWarnings("unchecked")
    private static List<String> initial(Map<String, Object> s) {
        Map<String, Object> loc = (Map<String, Object>) s.get("loc");
        Map<String, Object> logging = (Map<String, Object>) s.get("logging");
        List<String> lines = new ArrayList<>();
        for (String slot : new TreeSet<>(loc.keySet())) {
            if (!loc.get(slot).equals("none")) {
                lines.add("CreateSlot " + slot + " " + loc.get(slot) + " " + logging.get(slot));
            }
        }
        return lines;
    }

    /** Returns the contract action from state {@code a} to {@code b}, or "" when nothing changed. */
    @SuppressWarnings("unchecked")
    static String step(Map<String, Object> a, Map<String, Object> b) {
        if (a.equals(b)) {
            return "";
        }
        if (a.get("op").equals("none") && !b.get("op").equals("none")) {
            return "HarvestInvoke " + b.get("op") + " " + b.get("opSlot");
        }
        if (!a.get("op").equals("none") && b.get("op").equals("none")) {
            return "HarvestReturn " + set((Set<String>) b.get("reported"));
        }
        Map<String, Object> locA = (Map<String, Object>) a.get("loc");
        Map<String, Object> locB = (Map<String, Object>) b.get("loc");
        Map<String, Object> logB = (Map<String, Object>) b.get("logging");
        for (String slot : new TreeSet<>(locA.keySet())) {
            Object from = locA.get(slot);
            Object to = locB.get(slot);
            if (!from.equals(to)) {
                return from.equals("none") ? "CreateSlot " + slot + " " + to + " " + logB.get(slot)
                        : to.equals("none") ? "DeleteSlot " + slot : "MoveSlot " + slot + " " + to;
            }
        }
        Map<String, Object> logA = (Map<String, Object>) a.get("logging");
        for (String slot : new TreeSet<>(logA.keySet())) {
            if (!logA.get(slot).equals(logB.get(slot))) {
                return "SetLogging " + slot + " " + logB.get(slot);
            }
        }
        Map<String, Set<String>> owedA = (Map<String, Set<String>>) (Map<String, ?>) a.get("owed");
        Map<String, Set<String>> owedB = (Map<String, Set<String>>) (Map<String, ?>) b.get("owed");
        Map<String, Set<String>> touchedA = (Map<String, Set<String>>) (Map<String, ?>) a.get("touched");
        Map<String, Set<String>> touchedB = (Map<String, Set<String>>) (Map<String, ?>) b.get("touched");
        for (String slot : new TreeSet<>(owedA.keySet())) {
            Set<String> pages = new TreeSet<>(owedB.get(slot));
            pages.removeAll(owedA.get(slot));
            if (!pages.isEmpty()) {
                return "Write " + slot + " " + only(pages, a, b);
            }
        }
        for (String slot : new TreeSet<>(touchedA.keySet())) {
            Set<String> pages = new TreeSet<>(touchedB.get(slot));
            pages.removeAll(touchedA.get(slot));
            if (!pages.isEmpty()) {
                return "Touch " + slot + " " + only(pages, a, b);
            }
        }
        Set<String> may = new TreeSet<>((Set<String>) b.get("may"));
        may.removeAll((Set<String>) a.get("may"));
        if (!may.isEmpty()) {
            return "Touch " + b.get("opSlot") + " " + only(may, a, b);
        }
        if (!((Set<String>) a.get("reported")).isEmpty() && ((Set<String>) b.get("reported")).isEmpty()) {
            return "HarvestFail";
        }
        throw new IllegalStateException("no contract action leads from " + a + " to " + b);
    }

    private static String only(Set<String> pages, Map<String, Object> a, Map<String, Object> b) {
        if (pages.size() != 1) {
            throw new IllegalStateException("one step wrote " + pages + ": from " + a + " to " + b);
        }
        return pages.iterator().next();
    }

    private static String set(Set<String> pages) {
        return "{" + String.join(",", pages) + "}";
    }
}
