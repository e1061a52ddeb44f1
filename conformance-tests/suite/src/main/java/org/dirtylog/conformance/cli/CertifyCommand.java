package org.dirtylog.conformance.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.dirtylog.conformance.BackendNames;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.ConformanceRunner;
import org.dirtylog.conformance.Rule;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.RunOptions;
import org.dirtylog.conformance.TraceChecker;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.conformance.isolation.ChildLaunch;
import org.dirtylog.conformance.isolation.Discovery;
import org.dirtylog.conformance.isolation.Interruption;
import org.dirtylog.conformance.isolation.IsolatedCertification;
import org.dirtylog.conformance.isolation.Limits;
import org.dirtylog.conformance.report.ReportFolder;
import org.dirtylog.conformance.report.ReportWriter;
import org.dirtylog.conformance.report.Text;

/**
 * {@code ./dirtylog certify}: certifies backends against the rule catalogue, each in a JVM of
 * its own, and writes the report. Exit codes: 0 every backend certified, 1 at least one not,
 * 2 bad usage (one line on stderr), 130 interrupted (Ctrl-C).
 */
public final class CertifyCommand {

    /** Where reports go without {@code --report}, under the kit root ({@code dirtylog.root}, else the working folder). */
    public static final Path DEFAULT_REPORT = Path.of("dirtylog-report", "certify");

    private static final String EFFORT_RANGE = "[" + Certificate.effortText(RunOptions.MIN_EFFORT) + ", "
            + Certificate.effortText(RunOptions.MAX_EFFORT) + "]";

    static final CommandLine LINE = new CommandLine("certify",
            "Certifies backends against the rule catalogue. Each backend runs in a JVM of its own: a backend that\n"
                    + "exits, crashes, runs out of memory or hangs gets an ERROR for the rule that was running, and the\n"
                    + "run goes on. Exit status: 0 every backend certified, 1 at least one not, 2 bad usage, 130 interrupted.",
            List.of(new CommandLine.Option("--backend", "NAME", "certify this backend",
                            "every available backend found", true),
                    new CommandLine.Option("--backend-jar", "JAR", "also load the backends of this jar (ServiceLoader)",
                            "only the kit's built-in backends", true),
                    new CommandLine.Option("--report", "DIR", "write the report into DIR, which must be new or empty "
                            + "(or hold an earlier report, with --replace)",
                            "<kit root>/dirtylog-report/certify, replaced by every run", false),
                    new CommandLine.Option("--replace", null, "let the run replace an earlier report in --report DIR "
                            + "(never a folder holding anything else)", "a non-empty --report DIR is refused", false),
                    new CommandLine.Option("--seed", "N", "seed of every random choice (a signed 64-bit decimal); "
                            + "the same seed replays the same run", "a random seed, printed and recorded", false),
                    new CommandLine.Option("--rules", "PATTERN", "only the rules whose id matches (comma-separated globs, "
                            + "e.g. 'GET-*,MODEL-01'); a partial run is never certified", "every rule", false),
                    new CommandLine.Option("--effort", "X", "scale the rounds of the randomized rules and their timeouts, "
                            + "a decimal in " + EFFORT_RANGE + "; below 1 a run is never certified", "1", false),
                    new CommandLine.Option("--trace", null, "record every call each rule made and what the backend returned "
                            + "(DIR/traces/RULE.ndjson) and check each trace against the TLA+ contract with TLC",
                            "no traces", false)));

    private CertifyCommand() {
    }

    /** Runs the command with {@code args} (after {@code certify}) and returns its exit code. */
    public static int run(List<String> args) {
        return run(args, System.out, System.err);
    }

    /**
     * Runs the command, printing progress and the summary to {@code out} and errors to {@code err};
     * returns the exit code. {@code --trace} is refused: checking traces needs TLC, which only the
     * kit's CLI provides (see {@link #run(List, PrintStream, PrintStream, TraceChecker)}).
     */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        return run(args, out, err, null);
    }

    /**
     * Runs the command as {@link #run(List, PrintStream, PrintStream)} does, checking the traces
     * of {@code --trace} with {@code checker} (null: {@code --trace} is a usage error).
     */
    public static int run(List<String> args, PrintStream out, PrintStream err, TraceChecker checker) {
        Settings s;
        try {
            CommandLine.Parsed p = LINE.parse(args);
            if (p.help()) {
                out.println(LINE.help());
                return 0;
            }
            s = settings(p, checker);
        } catch (CommandLine.UsageError | IllegalArgumentException e) {
            return usage(err, e.getMessage());
        }
        ReportFolder folder;
        try {
            folder = ReportFolder.open(s.report, s.replace);
        } catch (ReportFolder.Refused e) {
            return usage(err, e.getMessage());
        }
        Interruption interruption = new Interruption();
        CountDownLatch ended = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            interruption.trigger();
            try {
                // Let the run write what it has (marked interrupted) before the JVM goes.
                ended.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "dirtylog-interrupt");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return new Run(s, folder, interruption, out, err).run();
        } finally {
            folder.close();
            ended.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running: this run was interrupted and has ended.
            }
        }
    }

    /** The validated command line. */
    private record Settings(List<String> names, List<Path> jars, Path report, boolean replace, RunOptions options,
                            Limits limits, TraceChecker checker) {
    }

    private static Settings settings(CommandLine.Parsed p, TraceChecker checker) throws CommandLine.UsageError {
        if (p.has("--trace") && checker == null) {
            throw new CommandLine.UsageError("--trace needs the TLA+ trace checker, which only ./dirtylog provides");
        }
        List<String> names = new ArrayList<>();
        for (String n : p.all("--backend")) {
            Optional<String> problem = BackendNames.problem(n);
            if (problem.isPresent()) {
                throw new CommandLine.UsageError("--backend " + problem.get());
            }
            if (!names.contains(n)) {
                names.add(n);
            }
        }
        List<Path> jars = Found.jars(p.all("--backend-jar"));
        long seed = p.one("--seed").map(CertifyCommand::seed).orElseGet(() -> new SecureRandom().nextLong());
        double effort = p.one("--effort").map(CertifyCommand::effort).orElse(1.0);
        Optional<String> rules = p.one("--rules");
        RunOptions options = new RunOptions(seed, rules, Optional.empty(), effort, p.has("--trace"));
        if (rules.isPresent() && new ConformanceRunner(options, System.out).selectedRules().isEmpty()) {
            throw new CommandLine.UsageError("no rule matches --rules '" + rules.get() + "'");
        }
        Optional<String> report = p.one("--report");
        if (report.isPresent() && report.get().isBlank()) {
            throw new CommandLine.UsageError("--report needs a folder");
        }
        Path dir = report.map(Path::of).orElseGet(() -> Path.of(System.getProperty("dirtylog.root", ""))
                .resolve(DEFAULT_REPORT));
        return new Settings(names, jars, dir, report.isEmpty() || p.has("--replace"), options,
                Limits.fromSystemProperties(), checker);
    }

    private static long seed(String v) {
        if (!v.matches("[+-]?[0-9]{1,19}")) {
            throw new IllegalArgumentException("--seed needs a signed 64-bit decimal integer, not '" + Text.line(v, 40) + "'");
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--seed " + v + " is outside the signed 64-bit range");
        }
    }

    private static double effort(String v) {
        if (!v.matches("[0-9]{1,4}(\\.[0-9]{1,6})?")) {
            throw new IllegalArgumentException("--effort needs a decimal number in " + EFFORT_RANGE + ", not '"
                    + Text.line(v, 40) + "'");
        }
        double e = Double.parseDouble(v);
        if (e < RunOptions.MIN_EFFORT || e > RunOptions.MAX_EFFORT) {
            throw new IllegalArgumentException("--effort " + v + " is outside " + EFFORT_RANGE);
        }
        return e;
    }

    /** One certify run once its command line is valid and its report folder is held. */
    private static final class Run {
        private final Settings s;
        private final ReportFolder folder;
        private final Interruption interruption;
        private final PrintStream out;
        private final PrintStream err;

        Run(Settings s, ReportFolder folder, Interruption interruption, PrintStream out, PrintStream err) {
            this.s = s;
            this.folder = folder;
            this.interruption = interruption;
            this.out = out;
            this.err = err;
        }

        int run() {
            // The race rules' perturbation agent in every JVM that runs rules (see Perturbation).
            ChildLaunch launch = ChildLaunch.ofThisJvm().withPerturbationAgent();
            Discovery.Catalog catalog;
            try {
                catalog = Discovery.describe(launch, s.limits, s.jars, interruption);
            } catch (IOException e) {
                err.println("dirtylog certify: cannot list the backends: " + Text.line(e.getMessage(), 1000));
                return 2;
            } catch (InterruptedException e) {
                err.println("dirtylog certify: interrupted while listing the backends; nothing was certified");
                return 130;
            }
            Found found = new Found(catalog);
            List<String> fatal = found.fatal(false);
            if (!fatal.isEmpty()) {
                return usage(err, Text.line(fatal.get(0), 1000) + (fatal.size() > 1 ? " (and " + (fatal.size() - 1)
                        + " more problems: dirtylog backends lists them)" : ""));
            }
            found.builtInProblems().forEach(p -> out.println("problem: " + Text.line(p, 1000)));
            List<Discovery.BackendInfo> chosen = new ArrayList<>();
            if (s.names.isEmpty()) {
                for (Discovery.BackendInfo b : found.byName().values()) {
                    if (b.availability().map(a -> a.available()).orElse(true)) {
                        chosen.add(b);
                    } else {
                        out.println("skip " + b.name().get() + ": unavailable: " + Text.line(b.availability().get().reason(),
                                300));
                    }
                }
                if (chosen.isEmpty()) {
                    return usage(err, "no available backend to certify (known: " + found.known() + ")");
                }
            } else {
                for (String name : s.names) {
                    Discovery.BackendInfo b = found.byName().get(name);
                    if (b == null) {
                        return usage(err, "unknown backend '" + name + "' (known: " + found.known() + ")");
                    }
                    if (b.availability().isPresent() && !b.availability().get().available()) {
                        return usage(err, "backend '" + name + "' is not available here: "
                                + Text.line(b.availability().get().reason(), 300));
                    }
                    chosen.add(b);
                }
            }
            List<Rule> rules = new ConformanceRunner(s.options, out).selectedRules();
            try {
                folder.clear();
            } catch (IOException e) {
                err.println("dirtylog certify: cannot clear the report folder " + folder.dir() + ": " + e.getMessage());
                return 2;
            }
            IsolatedCertification isolated = new IsolatedCertification(launch, s.limits, interruption);
            boolean several = chosen.size() > 1;
            List<Certificate> certificates = new ArrayList<>();
            List<String> notRun = new ArrayList<>();
            try {
                for (Discovery.BackendInfo b : chosen) {
                    if (interruption.isSet()) {
                        notRun.add(b.name().get());
                        continue;
                    }
                    out.printf(Locale.ROOT, "certify %s (seed %d, %d rules, effort %s)%n", b.name().get(), s.options.seed(),
                            rules.size(), Certificate.effortText(s.options.effort()));
                    out.flush();
                    IsolatedCertification.Outcome o = isolated.certify(b, s.options, s.jars, rules, new Progress(out));
                    String prefix = several ? b.name().get() : "";
                    Certificate c = o.certificate();
                    if (s.options.trace()) {
                        c = Traces.writeAndCheck(folder, prefix, c, s.checker, out);
                    }
                    certificates.add(c);
                    ReportWriter.write(folder, prefix, c, o.output());
                }
                if (several) {
                    ReportWriter.writeIndex(folder, certificates, notRun, s.options, jarNames());
                }
            } catch (IOException e) {
                err.println("dirtylog certify: cannot write the report to " + folder.dir() + ": " + e.getMessage());
                return 2;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                err.println("dirtylog certify: interrupted");
                return 130;
            }
            Path index = folder.dir().resolve("index.html");
            if (interruption.isSet()) {
                String where = certificates.isEmpty() ? "interrupted before the first rule"
                        : certificates.get(certificates.size() - 1).interruption().map(i -> i + " ("
                                + certificates.get(certificates.size() - 1).backend() + "); its JVM was killed")
                                .orElse("interrupted");
                err.println("dirtylog certify: " + where + "; partial report, not certified: " + index);
                return 130;
            }
            printSummary(certificates, index);
            return certificates.stream().allMatch(Certificate::certified) ? 0 : 1;
        }

        private List<String> jarNames() {
            return s.jars.stream().map(Path::toString).toList();
        }

        private void printSummary(List<Certificate> certificates, Path index) {
            int width = Math.max(24, certificates.stream().mapToInt(c -> c.backend().length()).max().orElse(0));
            out.println();
            out.printf(Locale.ROOT, "%-" + width + "s %-14s %5s %5s %5s %5s %8s%n", "BACKEND", "RESULT", "PASS", "FAIL", "N/A",
                    "ERROR", "SECONDS");
            for (Certificate c : certificates) {
                var sum = c.summary();
                out.printf(Locale.ROOT, "%-" + width + "s %-14s %5d %5d %5d %5d %8.1f%n", c.backend(),
                        c.certified() ? "certified" : "NOT certified", sum.get(Verdict.PASS), sum.get(Verdict.FAIL),
                        sum.get(Verdict.NOT_APPLICABLE), sum.get(Verdict.ERROR), c.seconds());
                if (!c.certified()) {
                    out.println("    " + Text.line(c.reason(), 2000));
                }
                for (String w : c.warnings()) {
                    out.println("    warning: " + Text.line(w, 2000));
                }
            }
            out.println("seed " + s.options.seed() + "; report: " + index);
        }
    }

    /** Prints one line per rule result, and a line when a new JVM takes over. */
    private static final class Progress implements IsolatedCertification.Listener {
        private final PrintStream out;
        private boolean first = true;

        Progress(PrintStream out) {
            this.out = out;
        }

        @Override
        public void childStarted(long pid, int remaining) {
            if (!first) {
                out.printf(Locale.ROOT, "  (a new JVM, pid %d, runs the %d remaining rules)%n", pid, remaining);
            }
            first = false;
            out.flush();
        }

        @Override
        public void result(int index, int total, RuleResult r) {
            int width = String.valueOf(total).length();
            out.println(String.format(Locale.ROOT, "  [%" + width + "d/%d] %-13s %-14s %6.2fs  %s", index, total,
                    r.rule().id(), r.verdict(), r.seconds(), Text.line(r.message(), 110)).stripTrailing());
            out.flush();
        }
    }

    private static int usage(PrintStream err, String message) {
        err.println("dirtylog certify: " + message + " (see dirtylog certify --help)");
        return 2;
    }
}
