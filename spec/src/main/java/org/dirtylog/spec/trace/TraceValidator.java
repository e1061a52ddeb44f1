package org.dirtylog.spec.trace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.dirtylog.spec.TlcResult;
import org.dirtylog.spec.TlcRunner;

/**
 * Checks recorded traces ({@code certify --trace}) against the user-visible contract
 * {@code spec/models/contract/DirtyLogContract.tla}: every behaviour (VM) of every rule given is
 * translated into the contract actions that must explain it ({@link Translation}), written as
 * the constant {@code Traces} of a generated module {@code TraceData}, and TLC explores
 * {@code DirtyLogContractTrace} over all of them in one run. A behaviour conforms when some
 * state sequence of the contract takes all its elements; otherwise it is rejected at the first
 * element no reachable state can take, named by its event's {@code seq}, with the contract's
 * state just before it.
 */
public final class TraceValidator {

    /** The module of {@code spec/models/trace} that TLC checks. */
    static final String MODULE = "DirtyLogContractTrace";
    /** The contract module, from {@code spec/models/contract}. */
    static final String CONTRACT = "DirtyLogContract";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern REACHED = Pattern.compile("(?s)^<<\\s*\"dirtylog-trace\",\\s*(\\d+),\\s*(\\d+),\\s*(.*)>>\\s*$");

    /**
     * What checking one rule's trace found.
     *
     * @param outcome {@code conforms}, {@code rejected} or {@code not checked}
     * @param message one line for the report
     * @param behaviours behaviours (VMs) in the trace
     * @param checked behaviours checked by TLC (the others are skipped, the message says why)
     * @param events events in the trace
     * @param step the seq of the first event the contract cannot explain, when rejected
     * @param state the contract's state before that event, as TLC prints it, when rejected
     * @param seconds wall time of the TLC run that checked this trace with the others of its batch
     */
    public record Verdict(String outcome, String message, int behaviours, int checked, int events, Optional<Long> step,
                          Optional<String> state, double seconds) {
    }

    private final Path modelsDir;
    private final TlcRunner runner;

    /** Returns a validator reading the modules under {@code modelsDir} ({@code spec/models}), running TLC with {@code runner}. */
    public TraceValidator(Path modelsDir, TlcRunner runner) {
        this.modelsDir = modelsDir;
        this.runner = runner;
    }

    /**
     * One behaviour of one rule, placed in the batch.
     *
     * @param windows for a behaviour whose calls overlap, what {@link WindowCheck} found; else null
     * @param windowSkip why even the window check could not judge it, or null
     */
    private record Placed(String rule, int behaviour, Translation.Behaviour translated, WindowCheck.Outcome windows,
                         String windowSkip) {
    }

    /**
     * Returns the verdict for each rule's trace in {@code traces} (rule id to NDJSON lines), all
     * checked in one TLC run.
     *
     * @throws IOException when the modules cannot be written or TLC cannot start
     * @throws InterruptedException when the TLC run was cancelled
     */
    public Map<String, Verdict> check(Map<String, List<String>> traces) throws IOException, InterruptedException {
        Map<String, Verdict> verdicts = new LinkedHashMap<>();
        List<Placed> batch = new ArrayList<>();
        Map<String, Integer> events = new LinkedHashMap<>();
        Map<String, List<Placed>> byRule = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> t : traces.entrySet()) {
            Map<Integer, List<JsonNode>> behaviours = new TreeMap<>();
            String bad = null;
            for (String line : t.getValue()) {
                JsonNode e;
                try {
                    e = JSON.readTree(line);
                } catch (IOException ex) {
                    bad = "an event is not JSON: " + ex.getMessage();
                    break;
                }
                if (!e.isObject() || !e.hasNonNull("seq") || !e.hasNonNull("b") || !e.hasNonNull("op")) {
                    bad = "an event lacks seq, b or op: " + line;
                    break;
                }
                behaviours.computeIfAbsent(e.get("b").asInt(), k -> new ArrayList<>()).add(e);
            }
            events.put(t.getKey(), t.getValue().size());
            if (bad != null) {
                verdicts.put(t.getKey(), new Verdict("not checked", bad, 0, 0, t.getValue().size(), Optional.empty(),
                        Optional.empty(), 0));
                continue;
            }
            List<Placed> placed = new ArrayList<>();
            for (Map.Entry<Integer, List<JsonNode>> b : behaviours.entrySet()) {
                Translation.Behaviour tr = Translation.of(b.getValue());
                WindowCheck.Outcome windows = null;
                String windowSkip = null;
                if (tr.overlapping()) {
                    try {
                        windows = WindowCheck.of(b.getValue());
                    } catch (Translation.Skip s) {
                        windowSkip = s.getMessage();
                    }
                }
                Placed p = new Placed(t.getKey(), b.getKey(), tr, windows, windowSkip);
                placed.add(p);
                if (p.translated().skipped().isEmpty()) {
                    batch.add(p);
                }
            }
            byRule.put(t.getKey(), placed);
        }
        long t0 = System.nanoTime();
        Map<Integer, Reach> reached = batch.isEmpty() ? Map.of() : runTlc(batch);
        double seconds = (System.nanoTime() - t0) / 1e9;
        for (Map.Entry<String, List<Placed>> r : byRule.entrySet()) {
            verdicts.put(r.getKey(), verdict(r.getValue(), batch, reached, events.get(r.getKey()), seconds));
        }
        return verdicts;
    }

    /** Where TLC got furthest in one behaviour: the 1-based element index it could not take next, and the state there. */
    private record Reach(int next, String state) {
    }

    private Verdict verdict(List<Placed> placed, List<Placed> batch, Map<Integer, Reach> reached, int events, double seconds) {
        int checked = 0;
        List<String> skips = new ArrayList<>();
        int overWindows = 0;
        for (Placed p : placed) {
            if (p.windows() != null) {
                checked++;
                overWindows++;
                if (p.windows().rejection().isPresent()) {
                    WindowCheck.Rejection r = p.windows().rejection().get();
                    return new Verdict("rejected", "event seq " + r.seq() + " (" + r.op() + (placed.size() > 1 ? ", VM "
                            + p.behaviour() : "") + ") breaks the contract for every order the recorded call windows "
                            + "allow: " + r.message(), placed.size(), checked, events, Optional.of(r.seq()), Optional.empty(),
                            seconds);
                }
                continue;
            }
            if (p.translated().skipped().isPresent()) {
                skips.add("VM " + p.behaviour() + ": " + p.translated().skipped().get()
                        + (p.windowSkip() != null ? "; over windows: " + p.windowSkip() : ""));
                continue;
            }
            checked++;
            int index = batch.indexOf(p) + 1;
            List<Translation.Element> elements = p.translated().elements();
            Reach reach = reached.get(index);
            int next = reach == null ? 1 : reach.next();
            if (next <= elements.size()) {
                Translation.Element e = elements.get(next - 1);
                return new Verdict("rejected", "event seq " + e.seq() + " (" + e.op() + (placed.size() > 1 ? ", VM "
                        + p.behaviour() : "") + ") is no step of the contract: " + e.action() + " is not enabled in any "
                        + "state the events before it lead to" + (reach == null ? "" : why(e, reach.state())), placed.size(), checked, events, Optional.of(e.seq()),
                        Optional.ofNullable(reach == null ? null : reach.state()), seconds);
            }
        }
        String skipped = skips.isEmpty() ? "" : "; " + skips.size() + " not checked (" + skips.get(0)
                + (skips.size() > 1 ? "; and " + (skips.size() - 1) + " more" : "") + ")";
        if (checked == 0) {
            return new Verdict("not checked", skips.isEmpty() ? "no behaviour recorded" : skips.get(0)
                    + (skips.size() > 1 ? "; and " + (skips.size() - 1) + " more" : ""), placed.size(), 0, events,
                    Optional.empty(), Optional.empty(), 0);
        }
        return new Verdict("conforms", "trace conforms: " + checked + " of " + placed.size() + " behaviour"
                + (placed.size() == 1 ? "" : "s") + " checked" + (overWindows > 0 ? " (" + overWindows + " with concurrent "
                + "calls, over their recorded windows)" : "") + skipped, placed.size(), checked, events, Optional.empty(),
                Optional.empty(), seconds);
    }

    private static final Pattern RESULT = Pattern.compile("r \\|-> \\{([^}]*)\\}");
    private static final Pattern MUST = Pattern.compile("must \\|-> \\{([^}]*)\\}");
    private static final Pattern MAY = Pattern.compile("may \\|-> \\{([^}]*)\\}");

    /**
     * Returns which guard of HarvestReturn a rejected result breaks, read from the state TLC
     * printed: NoLostWrite (a page owed at the invocation is missing) or Precision (a page
     * neither owed nor touched is reported); empty for other actions.
     */
    static String why(Translation.Element e, String state) {
        Matcher r = RESULT.matcher(e.tla());
        if (!r.find()) {
            return "";
        }
        TreeSet<Long> got = pages(r.group(1));
        if (e.tla().contains("\"mget\"")) {
            Matcher slot = SLOT.matcher(e.tla());
            if (!slot.find()) {
                return "";
            }
            Optional<TreeSet<Long>> owed = slotSet(state, "owed", slot.group(1));
            Optional<TreeSet<Long>> touched = slotSet(state, "touched", slot.group(1));
            if (owed.isEmpty() || touched.isEmpty()) {
                return "";
            }
            TreeSet<Long> may = new TreeSet<>(owed.get());
            may.addAll(touched.get());
            return guards(got, owed.get(), may, "owed (written and not cleared since)",
                    "neither owed nor written since it was last cleared");
        }
        Matcher must = MUST.matcher(state);
        Matcher may = MAY.matcher(state);
        if (!e.tla().contains("\"return\"") || !must.find() || !may.find()) {
            return "";
        }
        return guards(got, pages(must.group(1)), pages(may.group(1)), "owed when the harvest was invoked",
                "neither owed nor written since the slot's previous harvest");
    }

    /** Says which of {@code must \subseteq got} (NoLostWrite) and {@code got \subseteq may} (Precision) fails, and for which pages. */
    private static String guards(TreeSet<Long> got, TreeSet<Long> must, TreeSet<Long> may, String owed, String unexplained) {
        TreeSet<Long> missing = new TreeSet<>(must);
        missing.removeAll(got);
        TreeSet<Long> extra = new TreeSet<>(got);
        extra.removeAll(may);
        String out = "";
        if (!missing.isEmpty()) {
            out += "; NoLostWrite: page" + (missing.size() > 1 ? "s " : " ") + Translation.join(missing) + " " + owed + " "
                    + (missing.size() > 1 ? "are" : "is") + " not reported";
        }
        if (!extra.isEmpty()) {
            out += "; Precision: page" + (extra.size() > 1 ? "s " : " ") + Translation.join(extra) + " reported but " + unexplained;
        }
        return out;
    }

    private static final Pattern SLOT = Pattern.compile("\\bs \\|-> (\\d+)");

    /**
     * Returns the set {@code var[slot]} of a contract state TLC printed, where {@code var} is a
     * function of slots written {@code (0 :> {1, 2} @@ 3 :> {} @@ 4 :> 0..99)}; empty when it is not there.
     */
    static Optional<TreeSet<Long>> slotSet(String state, String var, String slot) {
        Matcher f = Pattern.compile("\\b" + var + " \\|-> \\(([^)]*)\\)").matcher(state);
        if (!f.find()) {
            return Optional.empty();
        }
        Matcher entry = Pattern.compile("(?:^|@@)\\s*" + slot + " :> (?:\\{([^}]*)\\}|(\\d+)\\.\\.(\\d+))")
                .matcher(f.group(1).strip());
        if (!entry.find()) {
            return Optional.empty();
        }
        if (entry.group(1) != null) {
            return Optional.of(pages(entry.group(1)));
        }
        // An INITIALLY_SET bitmap TLC keeps as the interval it was named with.
        TreeSet<Long> range = new TreeSet<>();
        for (long p = Long.parseLong(entry.group(2)); p <= Long.parseLong(entry.group(3)); p++) {
            range.add(p);
        }
        return Optional.of(range);
    }

    private static TreeSet<Long> pages(String list) {
        TreeSet<Long> out = new TreeSet<>();
        for (String p : list.split(",")) {
            if (!p.isBlank()) {
                out.add(Long.parseLong(p.strip()));
            }
        }
        return out;
    }

    /** Runs TLC on the batch and returns, per behaviour index (1-based), the furthest point reached. */
    private Map<Integer, Reach> runTlc(List<Placed> batch) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("dirtylog-trace-");
        try {
            Files.copy(modelsDir.resolve("contract").resolve(CONTRACT + ".tla"), dir.resolve(CONTRACT + ".tla"));
            Files.copy(modelsDir.resolve("trace").resolve(MODULE + ".tla"), dir.resolve(MODULE + ".tla"));
            Files.writeString(dir.resolve("TraceData.tla"), traceData(batch), StandardCharsets.UTF_8);
            Files.writeString(dir.resolve(MODULE + ".cfg"), CONFIG, StandardCharsets.UTF_8);
            Map<Integer, Reach> reached = new TreeMap<>();
            ReachParser parser = new ReachParser(reached);
            TlcResult result = runner.run(dir, MODULE, MODULE + ".cfg", 1, n -> { }, parser::accept);
            parser.flush();
            if (!result.verdict().equals(TlcResult.HOLDS)) {
                throw new IOException("TLC could not check the traces: " + result.verdict()
                        + result.error().map(e -> ": " + e).orElse(""));
            }
            return reached;
        } finally {
            deleteTree(dir);
        }
    }

    private static final String CONFIG = """
            CONSTANTS
                Slots <- TSlots
                Pages <- TPages
                Locations <- TLocations
                Kinds = {"get", "switch", "manual", "ring"}
                InitiallySet = FALSE
            SPECIFICATION TraceSpec
            INVARIANT Reached
            CHECK_DEADLOCK FALSE
            """;

    /** Returns module {@code TraceData}: the behaviours as a constant sequence and the values they name. */
    static String traceData(List<Placed> batch) {
        TreeSet<Long> slots = new TreeSet<>();
        TreeSet<Long> pages = new TreeSet<>();
        TreeSet<String> locations = new TreeSet<>();
        for (Placed p : batch) {
            slots.addAll(p.translated().slots());
            pages.addAll(p.translated().pages());
            locations.addAll(p.translated().locations());
        }
        StringBuilder b = new StringBuilder("---- MODULE TraceData ----\nEXTENDS Naturals\n");
        b.append("\\* Generated by the kit from recorded traces (certify --trace); one behaviour per VM.\n");
        b.append("TSlots == {").append(Translation.join(slots)).append("}\n");
        b.append("TPages == {").append(Translation.join(pages)).append("}\n");
        b.append("TLocations == {").append(String.join(", ", locations)).append("}\n");
        b.append("Traces == <<\n");
        for (int k = 0; k < batch.size(); k++) {
            Placed p = batch.get(k);
            b.append("  \\* ").append(p.rule()).append(", VM ").append(p.behaviour()).append('\n');
            b.append("  <<");
            List<Translation.Element> elements = p.translated().elements();
            for (int j = 0; j < elements.size(); j++) {
                b.append(j == 0 ? "" : ",\n    ").append(elements.get(j).tla());
            }
            b.append(">>").append(k + 1 < batch.size() ? "," : "").append('\n');
        }
        return b.append(">>\n====\n").toString();
    }

    /** Collects what {@code Reached} prints: a block from a {@code << "dirtylog-trace"} line to the next block or message. */
    private static final class ReachParser {
        private final Map<Integer, Reach> reached;
        private StringBuilder block;

        ReachParser(Map<Integer, Reach> reached) {
            this.reached = reached;
        }

        void accept(String line) {
            if (line.startsWith("<< \"dirtylog-trace\"")) {
                flush();
                block = new StringBuilder(line);
            } else if (block != null && line.startsWith("@!@!@")) {
                flush();
            } else if (block != null) {
                block.append('\n').append(line);
            }
        }

        void flush() {
            if (block == null) {
                return;
            }
            Matcher m = REACHED.matcher(block);
            block = null;
            if (m.matches()) {
                int behaviour = Integer.parseInt(m.group(1));
                int next = Integer.parseInt(m.group(2));
                Reach old = reached.get(behaviour);
                if (old == null || next > old.next()) {
                    reached.put(behaviour, new Reach(next, m.group(3).strip()));
                }
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (var walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
