package org.dirtylog.spec;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
 * and per counterexample {@code DIR/<model>.trace.txt} and the same trace drawn as
 * {@code DIR/<model>.trace.svg}. {@code DIR} defaults to
 * {@code dirtylog-report/check} under the kit root (the folder holding {@code spec/models}),
 * wherever the command is run from; one run at a time may write into it.
 *
 * <p>Ctrl-C (SIGINT, SIGTERM) stops TLC, writes {@code models.json} with the models finished so
 * far and {@code "interrupted": true}, prints one line and exits {@value #INTERRUPTED}.
 */
public final class CheckCommand {

    /** Exit status: every model met its expectation. */
    public static final int OK = 0;
    /** Exit status: some model's outcome differs from the manifest. */
    public static final int MISMATCH = 1;
    /** Exit status: bad usage, or a spec / configuration error. */
    public static final int USAGE = 2;
    /** Exit status: interrupted (Ctrl-C), as a shell reports a process ended by SIGINT. */
    public static final int INTERRUPTED = 130;

    /**
     * Workers for a model expected to hold when {@code --workers} is not given: one per CPU. A
     * complete search finds the same states and takes the same actions with any number of
     * workers, so only the time changes (the CI set: 234 s with 1 worker, see the README).
     * Models expected to fail keep one worker: TLC's breadth-first search then stops at the
     * same shortest counterexample each run and its coverage can be compared with the manifest.
     */
    static final int AUTO_WORKERS = Runtime.getRuntime().availableProcessors();

    /** Most TLC workers {@code --workers} accepts: 64, or the CPU count when that is higher. */
    public static final int MAX_WORKERS = Math.max(64, Runtime.getRuntime().availableProcessors());
    /** Report folder under the kit root when {@code --report} is not given. */
    public static final Path DEFAULT_REPORT = Path.of("dirtylog-report", "check");
    /** File name of the report, in the report folder. */
    static final String MODELS_JSON = "models.json";
    /** Name of the lock file inside the report folder. */
    static final String LOCK_FILE = ".check.lock";

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
        int workers = 0; // 0: per model, AUTO_WORKERS or 1 (workersFor)
        Path report = null;
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
                    workers = parseWorkers(value);
                    if (workers < 1) {
                        err.println("dirtylog check: --workers takes a whole number from 1 to " + MAX_WORKERS
                                + " (TLC worker threads), got '" + value + "'");
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
        Path reportDir = report != null ? report : kitRoot(modelsDir.get()).resolve(DEFAULT_REPORT);
        return check(selected, modelsDir.get(), workers, reportDir.toAbsolutePath().normalize(), out, err);
    }

    /** Returns {@code value} as a worker count in 1..{@link #MAX_WORKERS}, or 0 when it is not one. */
    static int parseWorkers(String value) {
        if (!value.matches("[0-9]{1,9}")) {
            return 0;
        }
        int n = Integer.parseInt(value);
        return n <= MAX_WORKERS ? n : 0;
    }

    /** Returns the TLC workers for {@code model}: {@code requested} if given (> 0), else {@link #AUTO_WORKERS} or 1. */
    static int workersFor(ModelEntry model, int requested) {
        if (requested > 0) {
            return requested;
        }
        return model.expected().equals(TlcResult.HOLDS) ? AUTO_WORKERS : 1;
    }

    /** Returns the kit root of a models folder {@code <root>/spec/models}. */
    static Path kitRoot(Path modelsDir) {
        return modelsDir.toAbsolutePath().normalize().getParent().getParent();
    }

    private static int check(List<ModelEntry> models, Path modelsDir, int workers, Path reportDir,
                             PrintStream out, PrintStream err) {
        try {
            Files.createDirectories(reportDir);
        } catch (IOException e) {
            err.println("dirtylog check: cannot create the report folder " + reportDir + " (" + describe(e) + ")");
            return USAGE;
        }
        Optional<FolderLock> lock;
        try {
            lock = FolderLock.tryAcquire(reportDir.resolve(LOCK_FILE));
        } catch (IOException e) {
            err.println("dirtylog check: cannot lock the report folder " + reportDir + " (" + describe(e) + ")");
            return USAGE;
        }
        if (lock.isEmpty()) {
            err.println("dirtylog check: another check is writing into " + reportDir
                    + "; wait for it to end or give another --report DIR");
            return USAGE;
        }
        try (FolderLock held = lock.get()) {
            return checkLocked(models, modelsDir, workers, reportDir, out, err);
        } catch (IOException e) {
            err.println("dirtylog check: " + describe(e));
            return USAGE;
        }
    }

    private static int checkLocked(List<ModelEntry> models, Path modelsDir, int workers, Path reportDir,
                                   PrintStream out, PrintStream err) {
        out.printf("dirtylog check: %d model(s) from %s, %s%n", models.size(), modelsDir, workers > 0
                ? workers + " TLC worker(s)"
                : AUTO_WORKERS + " TLC worker(s) for models expected to hold, 1 for counterexamples");
        Path work = reportDir.resolve("work");
        TlcRunner runner = new TlcRunner(work);
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "check-progress");
            t.setDaemon(true);
            return t;
        });
        Run run = new Run(models.size(), reportDir, work, runner, ticker, err);
        Thread hook = new Thread(run::interrupt, "check-interrupted");
        Runtime.getRuntime().addShutdownHook(hook);
        List<String> errors = new ArrayList<>();
        try {
            int index = 0;
            for (ModelEntry model : models) {
                index++;
                AtomicLong seen = new AtomicLong(-1);
                long started = System.nanoTime();
                String prefix = String.format("[%d/%d] %s", index, models.size(), model.name());
                if (!run.print(() -> out.println(prefix + ": TLC running (" + model.config() + ")"))) {
                    return INTERRUPTED;
                }
                var tick = ticker.scheduleAtFixedRate(() -> run.print(() -> out.printf(Locale.ROOT,
                        "    %s: %ds elapsed, %s%n", model.name(), (System.nanoTime() - started) / 1_000_000_000L,
                        seen.get() < 0 ? "no state count from TLC yet"
                                : String.format(Locale.ROOT, "%,d distinct states at TLC's last report", seen.get()))),
                        PROGRESS_SECONDS, PROGRESS_SECONDS, TimeUnit.SECONDS);
                TlcResult result;
                try {
                    result = runner.run(modelsDir.resolve(model.folder()), model.moduleName(),
                            model.configFileName(), workersFor(model, workers), seen::set);
                } catch (InterruptedException e) {
                    run.interrupt();
                    return INTERRUPTED;
                } finally {
                    tick.cancel(false);
                }
                boolean recorded = run.record(() -> {
                    ModelReport report = report(model, result, workersFor(model, workers), reportDir);
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
                    return report;
                });
                if (!recorded) {
                    return INTERRUPTED;
                }
            }
            List<ModelReport> reports = run.finish();
            if (reports == null) {
                return INTERRUPTED;
            }
            writeJson(reportDir.resolve(MODELS_JSON), new CheckReport(false, reports));
            TlcRunner.deleteTree(work);
            out.println();
            out.print(table(reports));
            out.println();
            out.println("report: " + reportDir.resolve(MODELS_JSON));
            if (!errors.isEmpty()) {
                return USAGE;
            }
            long failed = reports.stream().filter(r -> !r.ok()).count();
            out.println(failed == 0 ? "every model met its expectation"
                    : failed + " model(s) did not meet their expectation");
            return failed == 0 ? OK : MISMATCH;
        } catch (IOException | UncheckedIOException e) {
            if (run.wasInterrupted()) {
                return INTERRUPTED;
            }
            err.println("dirtylog check: " + describe(e));
            return USAGE;
        } finally {
            ticker.shutdownNow();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running (or ran) and owns the rest of this run
            }
        }
    }

    /**
     * One check run's shared state: the models recorded so far, and whether Ctrl-C (a shutdown
     * hook) or an interrupted TLC child ended the run. Output and records happen under this
     * object's monitor, so after the interruption line nothing more is printed or recorded.
     */
    private static final class Run {
        private final int total;
        private final Path reportDir;
        private final Path work;
        private final TlcRunner runner;
        private final ScheduledExecutorService ticker;
        private final PrintStream err;
        // Guarded by this.
        private final List<ModelReport> reports = new ArrayList<>();
        // Guarded by this.
        private boolean interrupted;
        // Guarded by this.
        private boolean finished;

        Run(int total, Path reportDir, Path work, TlcRunner runner, ScheduledExecutorService ticker,
            PrintStream err) {
            this.total = total;
            this.reportDir = reportDir;
            this.work = work;
            this.runner = runner;
            this.ticker = ticker;
            this.err = err;
        }

        /** Returns whether the run was interrupted (its failures are then no one's to report). */
        synchronized boolean wasInterrupted() {
            return interrupted;
        }

        /** Runs {@code printing} and returns true, unless the run was interrupted. */
        synchronized boolean print(Runnable printing) {
            if (interrupted) {
                return false;
            }
            printing.run();
            return true;
        }

        /** Adds the report {@code reporting} makes (and prints) and returns true, unless interrupted. */
        synchronized boolean record(IoSupplier<ModelReport> reporting) throws IOException {
            if (interrupted) {
                return false;
            }
            reports.add(reporting.get());
            return true;
        }

        /** Returns every report and ends the run, or null when it was interrupted. */
        synchronized List<ModelReport> finish() {
            if (interrupted) {
                return null;
            }
            finished = true;
            return List.copyOf(reports);
        }

        /**
         * Ends the run as interrupted, once: stops TLC, writes {@code models.json} with the models
         * finished so far and {@code "interrupted": true}, removes the work folder and prints one
         * line. Called by the shutdown hook (Ctrl-C) and by the main thread when TLC was
         * interrupted, in either order; the second caller waits here until the first is done,
         * because the JVM halts as soon as the hook returns.
         */
        synchronized void interrupt() {
            if (interrupted || finished) {
                return;
            }
            interrupted = true;
            List<ModelReport> done = List.copyOf(reports);
            ticker.shutdownNow();
            runner.cancel();
            Path json = reportDir.resolve(MODELS_JSON);
            String written;
            try {
                writeJson(json, new CheckReport(true, done));
                written = "report: " + json;
            } catch (IOException | UncheckedIOException e) {
                written = "no report (" + describe(e) + ")";
            }
            try {
                TlcRunner.deleteTree(work);
            } catch (IOException | UncheckedIOException e) {
                // a leftover work folder is removed by the next run into this report folder
            }
            err.printf("dirtylog check: interrupted after %d of %d model(s); %s%n", done.size(), total, written);
            err.flush();
        }
    }

    /** A supplier that may fail with an I/O error. */
    @FunctionalInterface
    private interface IoSupplier<T> {
        T get() throws IOException;
    }

    private static String describe(Exception e) {
        Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
        String message = cause.getMessage();
        if (cause instanceof FileAlreadyExistsException) {
            return "a file of that name is in the way: " + message;
        }
        if (cause instanceof AccessDeniedException) {
            return "permission denied: " + message;
        }
        return message == null ? cause.getClass().getSimpleName() : message;
    }

    private static ModelReport report(ModelEntry model, TlcResult result, int workers, Path reportDir)
            throws IOException {
        String traceFile = null;
        String svgFile = null;
        if (!result.trace().isEmpty()) {
            traceFile = model.name() + ".trace.txt";
            svgFile = model.name() + ".trace.svg";
            String title = String.format("%s (%s, %s): %s, expected %s", model.name(), model.model(),
                    model.config(), result.verdict(), model.expected());
            Files.writeString(reportDir.resolve(traceFile), TraceFormatter.format(title, result.trace()));
            Files.writeString(reportDir.resolve(svgFile), TraceSvg.render(title, result.verdict(), result.trace()));
        }
        // A search that stopped at a violation with several workers stops at no fixed state.
        List<String> untaken = result.verdict().equals(TlcResult.HOLDS) || workers == 1
                ? model.unexplainedUntakenActions(result) : List.of();
        return new ModelReport(model.name(), model.expected(), result.verdict(),
                result.verdict().equals(model.expected()) && untaken.isEmpty(), result.distinctStates(),
                model.distinctStates(), Math.round(result.seconds() * 10) / 10.0, workers, traceFile, svgFile,
                result.error().map(SpecError::describe).orElse(null), untaken);
    }

    /** Writes {@code report} to {@code file} through a temporary file, so no reader sees half of it. */
    private static void writeJson(Path file, CheckReport report) throws IOException {
        Path partial = file.resolveSibling(file.getFileName() + ".partial");
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(partial.toFile(), report);
        Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
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
