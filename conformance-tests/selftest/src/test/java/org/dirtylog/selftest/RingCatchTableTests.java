package org.dirtylog.selftest;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.ConformanceRunner;
import org.dirtylog.conformance.RunOptions;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.defects.Arch;
import org.dirtylog.defects.Defect;
import org.dirtylog.spi.DirtyLogBackend;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The measuring harness of the README's dirty-ring catch table (not part of the default build):
 * every dirty-ring fixture of {@code arch-adapters/defects}, seeds 1 to 10 at default effort,
 * which RING rule FAILed; and the correct {@code reference-x86} on the same seeds, which must
 * never FAIL. Run with the perturbation agent attached, as the module's surefire configuration
 * does: {@code ./mvnw -B verify -pl conformance-tests/selftest -am -Dgroups=measure
 * -Dselftest.excludedGroups=none -Dtest=RingCatchTableTests -Dsurefire.failIfNoSpecifiedTests=false}.
 * Writes {@code target/ring-catch-table.md}.
 */
@Tag("measure")
class RingCatchTableTests {

    private static final int SEEDS = 10;
    private static final String RULES = "RING-*";
    /** The fixtures of the dirty ring, all on x86 (the one reference architecture with a ring). */
    static final List<Defect> RING_FIXTURES = List.of(Defect.RESET_IGNORES_HARVEST_ORDER, Defect.NO_SOFT_FULL_EXIT,
            Defect.FLAGS_BEFORE_FIELDS, Defect.RESET_REARMS_UNHARVESTED, Defect.GET_WORKS_WITH_RING, Defect.CLEAR_WORKS_WITH_RING);

    @Test
    void catchTableOfEveryRingFixtureOnTenSeeds() throws IOException {
        StringBuilder table = new StringBuilder("| fixture | " + seedsHeader() + " | caught |\n|---|"
                + "---|".repeat(SEEDS + 1) + "\n");
        for (Defect d : RING_FIXTURES) {
            StringBuilder row = new StringBuilder("| " + d.backend(Arch.X86).name() + " |");
            int caught = 0;
            for (int seed = 1; seed <= SEEDS; seed++) {
                Certificate c = certify(d.backend(Arch.X86), seed);
                String failed = c.results().stream().filter(r -> r.verdict() == Verdict.FAIL)
                        .map(r -> r.rule().id()).collect(Collectors.joining(" "));
                caught += failed.isEmpty() ? 0 : 1;
                row.append(' ').append(failed.isEmpty() ? "**none**" : failed).append(" |");
            }
            row.append(' ').append(caught).append('/').append(SEEDS).append(" |\n");
            table.append(row);
            System.out.print(row);
        }
        table.append("\n| correct backend | seeds without FAIL or ERROR | RING rules, mean seconds per seed |\n|---|---|---|\n");
        List<String> falseFails = new ArrayList<>();
        int clean = 0;
        double seconds = 0;
        for (int seed = 1; seed <= SEEDS; seed++) {
            Certificate c = certify(Arch.X86.backend(), seed);
            seconds += c.seconds();
            boolean bad = c.results().stream().anyMatch(r -> r.verdict() == Verdict.FAIL || r.verdict() == Verdict.ERROR);
            clean += bad ? 0 : 1;
            if (bad) {
                falseFails.add("seed " + seed + ": " + Certify.problems(c));
            }
        }
        table.append(String.format(Locale.ROOT, "| %s | %d/%d | %.1f |%n", Arch.X86.backendName(), clean, SEEDS,
                seconds / SEEDS));
        Path out = Path.of("target", "ring-catch-table.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, table.toString());
        System.out.println(table);
        assertTrue(falseFails.isEmpty(), () -> "reference-x86 failed a RING rule: " + falseFails);
    }

    private static Certificate certify(DirtyLogBackend backend, long seed) {
        return new ConformanceRunner(RunOptions.withSeed(seed).withRules(RULES), System.out).certify(backend);
    }

    private static String seedsHeader() {
        List<String> seeds = new ArrayList<>();
        for (int seed = 1; seed <= SEEDS; seed++) {
            seeds.add("seed " + seed);
        }
        return String.join(" | ", seeds);
    }
}
