package org.dirtylog.spec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * {@code dirtylog check [--model NAME]... [--workers N] [--report DIR]}: model-checks the TLA+
 * models of {@code spec/models/manifest.json} with TLC, prints a table
 * {@code model | expected | actual | distinct states | seconds}, writes {@code DIR/models.json}
 * and one {@code DIR/<model>.trace.txt} per counterexample.
 */
public final class CheckCommand {

    /** Exit status: every model met its expectation. */
    public static final int OK = 0;
    /** Exit status: some model's outcome differs from the manifest. */
    public static final int MISMATCH = 1;
    /** Exit status: bad usage, or a spec / configuration error. */
    public static final int USAGE = 2;

    private static final String USAGE_LINE =
            "usage: dirtylog check [--model NAME|all]... [--workers N] [--report DIR]";
    private static final long PROGRESS_SECONDS = 5;

    private CheckCommand() {
    }

    /** Runs {@code check} with the given arguments and exits with its status (development entry point). */
    public static void main(String[] args) {
        System.exit(run(List.of(args)));
    }

    /** Returns the exit status after checking the models {@code args} select. */
    public static int run(List<String> args) {
        return run(args, System.out, System.err, Path.of("").toAbsolutePath());
    }

    /** Returns the exit status; output goes to {@code out} and {@code err}. */
    static int run(List<String> args, PrintStream out, PrintStream err, Path cwd) {
        Set<String> names = new LinkedHashSet<>();
        int workers = 1;
        Path report = cwd.resolve("dirtylog-report/check");
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (arg.equals("--help") || arg.equals("-h")) {
                out.println(USAGE_LINE);
                return OK;
            }
            if (!List.of("--model", "--workers", "--report").contains(arg)) {
                err.println("dirtylog check: unknown argument '" + arg + "'; " + USAGE_LINE);
                return USAGE;
            }
            if (i + 1 >= args.size()) {
                err.println("dirtylog check: " + arg + " needs a value; " + USAGE_LINE);
                return USAGE;
            }
            String value = args.get(++i);
            switch (arg) {
                case "--model" -> names.add(value);
                case "--workers" -> {
                    try {
                        workers = Integer.parseInt(value);
                    } catch (NumberFormatException e) {
                        workers = 0;
                    }
                    if (workers < 1) {
                        err.println("dirtylog check: --workers needs a positive number, got '" + value + "'");
                        return USAGE;
                    }
                }
                default -> report = cwd.resolve(value);
            }
        }
        Optional<Path> modelsDir = ModelManifest.findModelsDir(cwd);
        if (modelsDir.isEmpty()) {
            err.println("dirtylog check: no spec/models/" + ModelManifest.FILE_NAME
                    + " under -Ddirtylog.root, " + cwd + " or its parents");
            return USAGE;
        }
        ModelManifest manifest;
        try {
            manifest = ModelManifest.load(modelsDir.get());
        } catch (IOException e) {
            err.println("dirtylog check: cannot read " + modelsDir.get().resolve(ModelManifest.FILE_NAME)
                    + ": " + e.getMessage());
            return USAGE;
        }
        List<ModelEntry> selected = new ArrayList<>();
        if (names.isEmpty()) {
            selected.addAll(manifest.ciModels());
        } else if (names.contains("all")) {
            selected.addAll(manifest.models());
        } else {
            for (String name : names) {
                Optional<ModelEntry> entry = manifest.byName(name);
                if (entry.isEmpty()) {
                    err.println("dirtylog check: unknown model '" + name + "'; known: all, "
                            + String.join(", ", manifest.names()));
                    return USAGE;
                }
                selected.add(entry.get());
            }
        }
        return check(selected, modelsDir.get(), workers, report, out, err);
    }

    private static int check(List<ModelEntry> models, Path modelsDir, int workers, Path reportDir,
                             PrintStream out, PrintStream err) {
        out.printf("dirtylog check: %d model(s) from %s, %d TLC worker(s)%n", models.size(), modelsDir, workers);
        TlcRunner runner = new TlcRunner(reportDir.resolve("work"));
        List<ModelReport> reports = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "check-progress");
            t.setDaemon(true);
            return t;
        });
        try {
            Files.createDirectories(reportDir);
            int index = 0;
            for (ModelEntry model : models) {
                index++;
                AtomicLong seen = new AtomicLong(-1);
                long started = System.nanoTime();
                String prefix = String.format("[%d/%d] %s", index, models.size(), model.name());
                out.println(prefix + ": TLC running (" + model.config() + ")");
                var tick = ticker.scheduleAtFixedRate(() -> out.printf(Locale.ROOT, "    %s: %ds elapsed, %s%n",
                        model.name(), (System.nanoTime() - started) / 1_000_000_000L,
                        seen.get() < 0 ? "no state count from TLC yet"
                                : String.format(Locale.ROOT, "%,d distinct states at TLC's last report", seen.get())),
                        PROGRESS_SECONDS, PROGRESS_SECONDS, TimeUnit.SECONDS);
                TlcResult result;
                try {
                    result = runner.run(modelsDir.resolve(model.folder()), model.moduleName(),
                            model.configFileName(), workers, seen::set);
                } finally {
                    tick.cancel(false);
                }
                ModelReport report = report(model, result, workers, reportDir);
                reports.add(report);
                out.printf(Locale.ROOT, "%s: %s, %s distinct states, %.1f s%s%n", prefix, result.verdict(),
                        count(result.distinctStates()), result.seconds(), report.ok() ? ""
                                : !report.unexplainedNeverTaken().isEmpty() ? "  <-- never taken: "
                                        + String.join(", ", report.unexplainedNeverTaken())
                                        + " (not explained by the manifest's never_taken)"
                                : "  <-- expected " + model.expected());
                result.error().ifPresent(e -> {
                    errors.add(e.describe());
                    err.println("dirtylog check: " + model.name() + ": " + e.describe());
                });
            }
            writeJson(reportDir.resolve("models.json"), reports);
            TlcRunner.deleteTree(reportDir.resolve("work"));
        } catch (IOException e) {
            err.println("dirtylog check: " + e.getMessage());
            return USAGE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("dirtylog check: interrupted");
            return USAGE;
        } finally {
            ticker.shutdownNow();
        }
        out.println();
        out.print(table(reports));
        out.println();
        out.println("report: " + reportDir.resolve("models.json"));
        if (!errors.isEmpty()) {
            return USAGE;
        }
        long failed = reports.stream().filter(r -> !r.ok()).count();
        out.println(failed == 0 ? "every model met its expectation"
                : failed + " model(s) did not meet their expectation");
        return failed == 0 ? OK : MISMATCH;
    }

    private static ModelReport report(ModelEntry model, TlcResult result, int workers, Path reportDir)
            throws IOException {
        String traceFile = null;
        if (!result.trace().isEmpty()) {
            traceFile = model.name() + ".trace.txt";
            String title = String.format("%s (%s, %s): %s, expected %s", model.name(), model.model(),
                    model.config(), result.verdict(), model.expected());
            Files.writeString(reportDir.resolve(traceFile), TraceFormatter.format(title, result.trace()));
        }
        // A search that stopped at a violation with several workers stops at no fixed state.
        List<String> untaken = result.verdict().equals(TlcResult.HOLDS) || workers == 1
                ? model.unexplainedUntakenActions(result) : List.of();
        return new ModelReport(model.name(), model.expected(), result.verdict(),
                result.verdict().equals(model.expected()) && untaken.isEmpty(), result.distinctStates(),
                model.distinctStates(), Math.round(result.seconds() * 10) / 10.0, workers, traceFile,
                result.error().map(SpecError::describe).orElse(null), untaken);
    }

    private static void writeJson(Path file, List<ModelReport> reports) throws IOException {
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), reports);
    }

    /** Returns the results table, one row per model. */
    static String table(List<ModelReport> reports) {
        String[] header = {"model", "expected", "actual", "distinct states", "seconds"};
        List<String[]> rows = new ArrayList<>();
        rows.add(header);
        for (ModelReport r : reports) {
            String flag = r.ok() ? "" : r.actual().equals(r.expected()) ? " (ACTIONS NEVER TAKEN)" : " (MISMATCH)";
            rows.add(new String[] {r.model(), r.expected(), r.actual() + flag,
                    count(r.distinctStates()), String.format(Locale.ROOT, "%.1f", r.seconds())});
        }
        int[] width = new int[header.length];
        for (String[] row : rows) {
            for (int c = 0; c < row.length; c++) {
                width[c] = Math.max(width[c], row[c].length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < rows.size(); i++) {
            String[] row = rows.get(i);
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < row.length; c++) {
                boolean numeric = c >= 3 && i > 0;
                String cell = numeric ? " ".repeat(width[c] - row[c].length()) + row[c]
                        : row[c] + " ".repeat(width[c] - row[c].length());
                line.append(c == 0 ? "" : " | ").append(cell);
            }
            out.append(line.toString().stripTrailing()).append('\n');
            if (i == 0) {
                StringBuilder rule = new StringBuilder();
                for (int c = 0; c < width.length; c++) {
                    rule.append(c == 0 ? "" : "-|-").append("-".repeat(width[c]));
                }
                out.append(rule).append('\n');
            }
        }
        return out.toString();
    }

    private static String count(long n) {
        return n < 0 ? "-" : String.format(Locale.ROOT, "%,d", n);
    }
}
