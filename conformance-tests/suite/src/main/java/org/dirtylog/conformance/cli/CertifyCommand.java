package org.dirtylog.conformance.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.ConformanceRunner;
import org.dirtylog.conformance.RunOptions;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.conformance.report.ReportWriter;
import org.dirtylog.spi.Availability;
import org.dirtylog.spi.DirtyLogBackend;

/**
 * {@code ./dirtylog certify}: certifies backends against the rule catalogue and writes the
 * reports. Exit codes: 0 every backend certified, 1 at least one not, 2 bad usage.
 */
public final class CertifyCommand {

    static final String USAGE = "usage: dirtylog certify [--backend NAME]... [--backend-jar JAR]... [--report DIR] "
            + "[--seed N] [--rules PATTERN] [--effort X]";

    /** Where reports go without {@code --report}. */
    public static final Path DEFAULT_REPORT = Path.of("dirtylog-report", "certify");

    private CertifyCommand() {
    }

    /** Runs the command with {@code args} (after {@code certify}) and returns its exit code. */
    public static int run(List<String> args) {
        return run(args, System.out, System.err);
    }

    /** Runs the command, printing progress and the summary to {@code out} and usage errors to {@code err}; returns the exit code. */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        List<String> names = new ArrayList<>();
        List<Path> jars = new ArrayList<>();
        Path report = DEFAULT_REPORT;
        Long seed = null;
        String rules = null;
        double effort = 1.0;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--help") || a.equals("-h")) {
                out.println(USAGE);
                return 0;
            }
            if (!a.startsWith("--") || i + 1 >= args.size()) {
                return usage(err, a.startsWith("--") ? "option " + a + " needs a value" : "unexpected argument '" + a + "'");
            }
            String v = args.get(++i);
            switch (a) {
                case "--backend" -> names.add(v);
                case "--backend-jar" -> jars.add(Path.of(v));
                case "--report" -> report = Path.of(v);
                case "--rules" -> rules = v;
                case "--seed" -> {
                    try {
                        seed = Long.parseLong(v);
                    } catch (NumberFormatException e) {
                        return usage(err, "--seed needs an integer, not '" + v + "'");
                    }
                }
                case "--effort" -> {
                    try {
                        effort = Double.parseDouble(v);
                    } catch (NumberFormatException e) {
                        effort = -1;
                    }
                    if (!(effort > 0)) {
                        return usage(err, "--effort needs a positive number, not '" + v + "'");
                    }
                }
                default -> {
                    return usage(err, "unknown option '" + a + "'");
                }
            }
        }
        RunOptions options = RunOptions.withSeed(seed != null ? seed : new SecureRandom().nextLong()).withEffort(effort);
        if (rules != null) {
            options = options.withRules(rules);
            if (new ConformanceRunner(options, out).selectedRules().isEmpty()) {
                return usage(err, "no rule matches --rules '" + rules + "'");
            }
        }
        BackendLoader.Loaded loaded = BackendLoader.load(jars);
        for (Path jar : jars) {
            for (String p : loaded.problems()) {
                if (p.startsWith(jar + ":")) {
                    return usage(err, p);
                }
            }
        }
        loaded.problems().forEach(p -> out.println("problem: " + p));
        List<DirtyLogBackend> chosen = new ArrayList<>();
        if (names.isEmpty()) {
            for (BackendLoader.Found f : loaded.backends().values()) {
                Availability a = f.backend().availability();
                if (a.available()) {
                    chosen.add(f.backend());
                } else {
                    out.println("skip " + f.backend().name() + ": unavailable: " + a.reason());
                }
            }
            if (chosen.isEmpty()) {
                return usage(err, "no available backend to certify (known: " + known(loaded) + ")");
            }
        } else {
            for (String name : names) {
                BackendLoader.Found f = loaded.backends().get(name);
                if (f == null) {
                    return usage(err, "unknown backend '" + name + "' (known: " + known(loaded) + ")");
                }
                Availability a = f.backend().availability();
                if (!a.available()) {
                    return usage(err, "backend '" + name + "' is not available here: " + a.reason());
                }
                if (!chosen.contains(f.backend())) {
                    chosen.add(f.backend());
                }
            }
        }
        ConformanceRunner runner = new ConformanceRunner(options, out);
        List<Certificate> certificates = new ArrayList<>();
        for (DirtyLogBackend b : chosen) {
            certificates.add(runner.certify(b));
        }
        try {
            if (certificates.size() == 1) {
                ReportWriter.write(certificates.get(0), report);
            } else {
                ReportWriter.writeAll(certificates, report);
            }
        } catch (IOException e) {
            err.println("dirtylog certify: cannot write the report to " + report + ": " + e.getMessage());
            return 2;
        }
        printSummary(out, certificates, report);
        return certificates.stream().allMatch(Certificate::certified) ? 0 : 1;
    }

    private static void printSummary(PrintStream out, List<Certificate> certificates, Path report) {
        out.println();
        out.printf(Locale.ROOT, "%-24s %-14s %5s %5s %5s %5s %8s%n", "BACKEND", "RESULT", "PASS", "FAIL", "N/A", "ERROR",
                "SECONDS");
        for (Certificate c : certificates) {
            var s = c.summary();
            out.printf(Locale.ROOT, "%-24s %-14s %5d %5d %5d %5d %8.1f%n", c.backend(),
                    c.certified() ? "certified" : "NOT certified", s.get(Verdict.PASS), s.get(Verdict.FAIL),
                    s.get(Verdict.NOT_APPLICABLE), s.get(Verdict.ERROR), c.seconds());
            if (!c.certified()) {
                out.println("    " + c.reason());
            }
        }
        out.println("seed " + certificates.get(0).seed() + "; report: " + report.resolve("index.html"));
    }

    private static String known(BackendLoader.Loaded loaded) {
        return loaded.backends().isEmpty() ? "none found" : String.join(", ", loaded.backends().keySet());
    }

    private static int usage(PrintStream err, String message) {
        err.println("dirtylog certify: " + message + " (" + USAGE + ")");
        return 2;
    }
}
