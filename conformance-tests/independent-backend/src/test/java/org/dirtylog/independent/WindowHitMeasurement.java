package org.dirtylog.independent;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.ConformanceRunner;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.RunOptions;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.RandomWriter;
import org.dirtylog.spi.RandomWrites;
import org.dirtylog.spi.UserMemory;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Measures, not tests: how often each broken variant's race window is actually hit during one
 * certification of {@value #RULES} at default effort, counted by {@link CountingVariants}.
 * Writes {@code target/window-hits/window-hits.md} (variant x seed: hits, and the rules that
 * failed in that run) and prints it. A second measurement runs each variant without the suite:
 * four vCPUs writing random pages while one thread harvests back to back, to show how often the
 * same windows open when nothing but the harvests runs beside the vCPUs. Run only when asked:
 * <pre>
 * ./mvnw -B verify -pl conformance-tests/independent-backend -am -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dtest=IndependentConformanceTests -Dindependent.measure.skip=false [-Ddirtylog.measure.seeds=1-10]
 * </pre>
 */
@Tag("measure")
class WindowHitMeasurement {

    static final String RULES = "RACE-*,PREC-01,MODEL-01";

    @Test
    void countWindowHitsOfEveryVariant() throws IOException {
        String spec = System.getProperty("dirtylog.measure.seeds", "1-10");
        String only = System.getProperty("dirtylog.measure.variants", "");
        Assumptions.assumeFalse(spec.equals("none"), "-Ddirtylog.measure.seeds=none");
        List<Long> seeds = new ArrayList<>();
        for (String part : spec.split(",")) {
            String[] range = part.trim().split("-");
            for (long s = Long.parseLong(range[0]); s <= Long.parseLong(range[range.length - 1]); s++) {
                seeds.add(s);
            }
        }
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        StringBuilder table = new StringBuilder("| variant (one hit is ...) |");
        seeds.forEach(s -> table.append(" seed ").append(s).append(" |"));
        table.append(" hits per run (min-max) |\n|---|").append("---|".repeat(seeds.size() + 1)).append('\n');
        for (CountingVariants.Entry e : CountingVariants.all()) {
            if (!only.isEmpty() && !List.of(only.split(",")).contains(e.suffix())) {
                continue;
            }
            table.append("| `+").append(e.suffix()).append("` (").append(e.counts()).append(") |");
            long min = Long.MAX_VALUE;
            long max = 0;
            for (long seed : seeds) {
                DirtyLogPaths paths = e.paths().get();
                IndependentBackend backend = new IndependentBackend(IndependentBackends.CORRECT + "+" + e.suffix() + "+counting",
                        "window-counting copy of a broken variant", paths);
                Certificate c = new ConformanceRunner(RunOptions.withSeed(seed).withRules(RULES), quiet).certify(backend);
                long hits = ((CountingVariants.Counting) paths).hits();
                min = Math.min(min, hits);
                max = Math.max(max, hits);
                List<String> failed = c.results().stream()
                        .filter(r -> r.verdict() == Verdict.FAIL || r.verdict() == Verdict.ERROR)
                        .map(r -> r.rule().id() + (r.verdict() == Verdict.ERROR ? " (ERROR)" : "")).toList();
                table.append(' ').append(hits).append(failed.isEmpty() ? "" : " " + failed).append(" |");
                System.out.printf(Locale.ROOT, "%-28s seed %3d  %7d hits  %5.1f s  %s%n", e.suffix(), seed, hits, c.seconds(),
                        failed.isEmpty() ? "certified" : "caught by " + failed + ": "
                                + c.results().stream().filter(r -> r.verdict() == Verdict.FAIL).map(RuleResult::message)
                                        .findFirst().orElse(""));
            }
            table.append(' ').append(min).append('-').append(max).append(" |\n");
        }
        Path out = Path.of("target", "window-hits");
        Files.createDirectories(out);
        Files.writeString(out.resolve("window-hits.md"), table, StandardCharsets.UTF_8);
        System.out.println(table);
    }

    @Test
    void countWindowHitsUnderBackToBackHarvests() throws IOException {
        int harvests = Integer.getInteger("dirtylog.measure.harvests", 2000);
        Assumptions.assumeTrue(harvests > 0, "-Ddirtylog.measure.harvests=0");
        StringBuilder table = new StringBuilder("| variant | GET harvests: hits | SWITCH harvests: hits |\n|---|---|---|\n");
        for (CountingVariants.Entry e : CountingVariants.all()) {
            table.append("| `+").append(e.suffix()).append("` |");
            for (boolean get : new boolean[] {true, false}) {
                DirtyLogPaths paths = e.paths().get();
                long hits = backToBack(paths, get, harvests);
                table.append(' ').append(hits).append(" |");
                System.out.printf(Locale.ROOT, "%-28s %-6s %d harvests back to back: %d hits%n", e.suffix(),
                        get ? "GET" : "SWITCH", harvests, hits);
            }
            table.append('\n');
        }
        Path out = Path.of("target", "window-hits");
        Files.createDirectories(out);
        Files.writeString(out.resolve("back-to-back.md"), table, StandardCharsets.UTF_8);
        System.out.println(table);
    }

    /** Returns the window hits of {@code harvests} harvests of one style while four vCPUs write random pages. */
    private static long backToBack(DirtyLogPaths paths, boolean get, int harvests) {
        long npages = (1L << 11) + 3;
        IndependentBackend backend = new IndependentBackend("back-to-back", "window-counting copy", paths);
        try (BackendVm vm = backend.createVm().value()) {
            UserMemory memory = vm.mmap(npages * KvmApi.PAGE_SIZE).value();
            UserMemory buffer = vm.mmap(KvmApi.PAGE_SIZE).value();
            long gpa = IndependentBackend.GUEST_PHYS_BASE;
            vm.setUserMemoryRegion(new MemoryRegion(0, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, gpa, npages * KvmApi.PAGE_SIZE,
                    memory.address())).value();
            List<RandomWriter> writers = new ArrayList<>();
            for (int v = 0; v < IndependentBackend.MAX_VCPUS; v++) {
                writers.add(vm.createVcpu(v).value().startRandomWrites(new RandomWrites(gpa, npages, 1, v)).value());
            }
            for (int h = 0; h < harvests; h++) {
                if (get) {
                    vm.getDirtyLog(0, buffer.address()).value();
                } else {
                    vm.switchDirtyLog(0).value();
                }
            }
            writers.forEach(RandomWriter::stop);
            // A last harvest with the vCPUs stopped lets the counters compare what the previous one left.
            if (get) {
                vm.getDirtyLog(0, buffer.address()).value();
            } else {
                vm.switchDirtyLog(0).value();
            }
        }
        return ((CountingVariants.Counting) paths).hits();
    }
}
