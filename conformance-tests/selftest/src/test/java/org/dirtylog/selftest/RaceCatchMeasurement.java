package org.dirtylog.selftest;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.ConformanceRunner;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.RunOptions;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.independent.IndependentBackends;
import org.dirtylog.spi.DirtyLogBackend;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Measures, not tests: how often today's race rules catch the {@code independent} backend's
 * natural-window broken variants, the baseline that better rules must raise. Each backend is
 * certified with {@value #RULES} on every seed at default effort; the verdict of each rule per
 * seed goes to {@code target/race-catch/<backend>.json}, and {@code target/race-catch/catch-table.md}
 * is rebuilt from every such file present, so the measurement can run in several short parts.
 *
 * <p>Not part of the build (its name is not a test class name, it is tagged {@code measure} and
 * it runs only with {@code -Ddirtylog.measure=true}):
 * <pre>
 * ./mvnw -B verify -pl conformance-tests/selftest -am -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dtest=RaceCatchMeasurement -Ddirtylog.measure=true \
 *     [-Ddirtylog.measure.backends=independent,independent+plain-clear] [-Ddirtylog.measure.seeds=1-10]
 * </pre>
 * The correct backend must get no FAIL or ERROR on any seed: that is the one assertion.
 */
@Tag("measure")
@EnabledIfSystemProperty(named = "dirtylog.measure", matches = "true")
class RaceCatchMeasurement {

    static final String RULES = "RACE-*,PREC-01,MODEL-01";
    private static final List<String> RULE_IDS = List.of("RACE-01", "RACE-02", "RACE-03", "PREC-01", "MODEL-01");
    private static final Path OUT = Path.of("target", "race-catch");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void measureCatchRatesOfTheIndependentVariants() throws IOException {
        List<String> names = backends();
        long[] seeds = seeds(System.getProperty("dirtylog.measure.seeds", "1-10"));
        Files.createDirectories(OUT);
        List<String> correctProblems = new ArrayList<>();
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        for (String name : names) {
            ObjectNode file = JSON.createObjectNode();
            file.put("backend", name);
            file.put("rules", RULES);
            file.put("effort", 1.0);
            ArrayNode runs = file.putArray("runs");
            for (long seed : seeds) {
                DirtyLogBackend backend = IndependentBackends.named(name)
                        .orElseThrow(() -> new IllegalArgumentException("no backend " + name));
                Certificate c = new ConformanceRunner(RunOptions.withSeed(seed).withRules(RULES), quiet).certify(backend);
                ObjectNode run = runs.addObject();
                run.put("seed", seed);
                run.put("seconds", Math.round(c.seconds() * 10) / 10.0);
                ObjectNode verdicts = run.putObject("verdicts");
                List<String> caught = new ArrayList<>();
                for (RuleResult r : c.results()) {
                    verdicts.put(r.rule().id(), r.verdict().name());
                    if (r.verdict() == Verdict.FAIL || r.verdict() == Verdict.ERROR) {
                        caught.add(r.rule().id() + (r.verdict() == Verdict.ERROR ? "(ERROR)" : ""));
                        run.put(r.rule().id() + "_message", r.message());
                    }
                }
                System.out.printf(Locale.ROOT, "%-42s seed %3d  %5.1f s  %s%n", name, seed, c.seconds(),
                        caught.isEmpty() ? "certified" : "caught by " + String.join(", ", caught));
                if (name.equals(IndependentBackends.CORRECT) && !caught.isEmpty()) {
                    correctProblems.add("seed " + seed + ": " + caught);
                }
            }
            JSON.writerWithDefaultPrettyPrinter().writeValue(OUT.resolve(fileName(name)).toFile(), file);
        }
        Files.writeString(OUT.resolve("catch-table.md"), table(), StandardCharsets.UTF_8);
        System.out.println(Files.readString(OUT.resolve("catch-table.md")));
        assertTrue(correctProblems.isEmpty(), () -> "the correct backend failed: " + correctProblems);
    }

    private static List<String> backends() {
        String list = System.getProperty("dirtylog.measure.backends", "all");
        if (!list.equals("all")) {
            return List.of(list.split(","));
        }
        List<String> all = new ArrayList<>();
        all.add(IndependentBackends.CORRECT);
        IndependentBackends.variants().forEach(b -> all.add(b.name()));
        return all;
    }

    /** Returns the seeds of {@code spec}: {@code 1-10}, {@code 3,7} or a mix. */
    static long[] seeds(String spec) {
        List<Long> out = new ArrayList<>();
        for (String part : spec.split(",")) {
            String[] range = part.trim().split("-");
            long from = Long.parseLong(range[0]);
            long to = range.length > 1 ? Long.parseLong(range[1]) : from;
            for (long s = from; s <= to; s++) {
                out.add(s);
            }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    private static String fileName(String backend) {
        return backend.replace('+', '_') + ".json";
    }

    /** Returns the class x seed table of every result file present, one row per backend. */
    private static String table() throws IOException {
        TreeMap<Integer, JsonNode> ordered = new TreeMap<>();
        List<String> order = new ArrayList<>();
        order.add(IndependentBackends.CORRECT);
        IndependentBackends.variants().forEach(b -> order.add(b.name()));
        try (var files = Files.list(OUT)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".json")).toList()) {
                JsonNode n = JSON.readTree(p.toFile());
                int i = order.indexOf(n.get("backend").asText());
                ordered.put(i < 0 ? 1000 + ordered.size() : i, n);
            }
        }
        TreeMap<Long, Boolean> allSeeds = new TreeMap<>();
        ordered.values().forEach(n -> n.get("runs").forEach(r -> allSeeds.put(r.get("seed").asLong(), true)));
        StringBuilder b = new StringBuilder("| backend | ");
        b.append(allSeeds.keySet().stream().map(s -> "seed " + s).collect(Collectors.joining(" | ")));
        b.append(" | not certified |\n|---|");
        b.append("---|".repeat(allSeeds.size() + 1)).append('\n');
        for (JsonNode n : ordered.values()) {
            b.append("| `").append(n.get("backend").asText()).append("` |");
            int caught = 0;
            int runs = 0;
            for (long seed : allSeeds.keySet()) {
                JsonNode run = null;
                for (JsonNode r : n.get("runs")) {
                    if (r.get("seed").asLong() == seed) {
                        run = r;
                    }
                }
                if (run == null) {
                    b.append(" |");
                    continue;
                }
                runs++;
                List<String> failed = new ArrayList<>();
                for (String id : RULE_IDS) {
                    String v = run.get("verdicts").path(id).asText("");
                    if (v.equals("FAIL") || v.equals("ERROR")) {
                        failed.add(id + (v.equals("ERROR") ? " (ERROR)" : ""));
                    }
                }
                caught += failed.isEmpty() ? 0 : 1;
                b.append(' ').append(failed.isEmpty() ? "-" : String.join(", ", failed)).append(" |");
            }
            b.append(' ').append(caught).append('/').append(runs).append(" |\n");
        }
        return b.toString();
    }
}
