package org.dirtylog.conformance.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.dirtylog.conformance.isolation.ChildLaunch;
import org.dirtylog.conformance.isolation.Discovery;
import org.dirtylog.conformance.isolation.Interruption;
import org.dirtylog.conformance.isolation.Limits;
import org.dirtylog.conformance.report.Text;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.Capability;

/**
 * {@code ./dirtylog backends [--backend-jar JAR]...}: lists backends, capabilities and
 * availability, asked in a child JVM so no backend code runs in this one. Exit codes: 0, or 2
 * for bad usage or when a jar or backend is broken (each problem on a line of its own).
 */
public final class BackendsCommand {

    static final CommandLine LINE = new CommandLine("backends",
            "Lists the backends found on the kit's class path and in the given jars, with their capabilities and\n"
                    + "availability. Backends are loaded and asked in a separate JVM; a backend that throws, returns null,\n"
                    + "hangs or ends that JVM is reported as a problem.",
            List.of(new CommandLine.Option("--backend-jar", "JAR", "also list the backends of this jar (ServiceLoader)",
                    "only the kit's built-in backends", true)));

    private BackendsCommand() {
    }

    /** Runs the command and returns its exit code. */
    public static int run(List<String> args) {
        return run(args, System.out, System.err);
    }

    /** Runs the command, printing the list to {@code out} and problems to {@code err}; returns the exit code. */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        List<Path> jars;
        Limits limits;
        try {
            CommandLine.Parsed p = LINE.parse(args);
            if (p.help()) {
                out.println(LINE.help());
                return 0;
            }
            jars = Found.jars(p.all("--backend-jar"));
            limits = Limits.fromSystemProperties();
        } catch (CommandLine.UsageError | IllegalArgumentException e) {
            err.println("dirtylog backends: " + e.getMessage() + " (see dirtylog backends --help)");
            return 2;
        }
        Discovery.Catalog catalog;
        try {
            catalog = Discovery.describe(ChildLaunch.ofThisJvm(), limits, jars, new Interruption());
        } catch (IOException e) {
            err.println("dirtylog backends: cannot list the backends: " + e.getMessage());
            return 2;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("dirtylog backends: interrupted");
            return 130;
        }
        Found found = new Found(catalog);
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"BACKEND", "AVAILABLE", "GEN", "VCPUS", "CAPABILITIES", "DESCRIPTION"});
        List<String> problems = new ArrayList<>(found.fatal(true));
        for (Discovery.BackendInfo b : catalog.backends()) {
            if (b.unnamed()) {
                continue;
            }
            String available = b.availability().map(a -> a.available() ? "yes" : "no").orElse("?");
            String gen = b.capabilities().map(c -> String.valueOf(c.userDirtyLogGeneration())).orElse("?");
            String vcpus = b.capabilities().map(c -> String.valueOf(c.maxVcpus())).orElse("?");
            String caps = b.capabilities().map(BackendsCommand::features).orElse("?");
            String description = Text.line(b.description().orElse("?"), 160)
                    + (b.origin().equals(Discovery.BUILT_IN) ? "" : " [" + b.origin() + "]");
            rows.add(new String[] {b.name().get(), available, gen, vcpus, caps, description});
            b.availability().filter(a -> !a.available())
                    .ifPresent(a -> rows.add(new String[] {"    unavailable: " + Text.line(a.reason(), 200)}));
            b.problem().ifPresent(p -> problems.add(b.origin() + ": " + p));
        }
        printTable(out, rows);
        for (String p : problems) {
            err.println("problem: " + Text.line(p, 1000));
        }
        return problems.isEmpty() ? 0 : 2;
    }

    private static String features(Capabilities c) {
        return c.features().stream().sorted().map(Capability::label).collect(Collectors.joining(","));
    }

    /** Prints {@code rows} with every column as wide as its widest cell; one-cell rows are notes under the row before. */
    private static void printTable(PrintStream out, List<String[]> rows) {
        int[] width = new int[rows.get(0).length];
        for (String[] r : rows) {
            if (r.length == width.length) {
                for (int i = 0; i < r.length; i++) {
                    width[i] = Math.max(width[i], r[i].length());
                }
            }
        }
        for (String[] r : rows) {
            if (r.length != width.length) {
                out.println(r[0]);
                continue;
            }
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                line.append(i == r.length - 1 ? r[i] : String.format(Locale.ROOT, "%-" + width[i] + "s  ", r[i]));
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
