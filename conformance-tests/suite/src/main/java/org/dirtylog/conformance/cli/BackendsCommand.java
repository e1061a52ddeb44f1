package org.dirtylog.conformance.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.dirtylog.spi.Availability;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.DirtyLogBackend;

/** {@code ./dirtylog backends [--backend-jar JAR]...}: lists backends, capabilities and availability. */
public final class BackendsCommand {

    static final String USAGE = "usage: dirtylog backends [--backend-jar JAR]...";

    private BackendsCommand() {
    }

    /** Runs the command and returns its exit code: 0, or 2 for bad usage. */
    public static int run(List<String> args) {
        return run(args, System.out, System.err);
    }

    /** Runs the command, printing the list to {@code out} and usage errors to {@code err}; returns the exit code. */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        List<Path> jars = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--help") || a.equals("-h")) {
                out.println(USAGE);
                return 0;
            }
            if (a.equals("--backend-jar") && i + 1 < args.size()) {
                jars.add(Path.of(args.get(++i)));
            } else {
                err.println("dirtylog backends: unexpected argument '" + a + "' (" + USAGE + ")");
                return 2;
            }
        }
        BackendLoader.Loaded loaded = BackendLoader.load(jars);
        out.printf(Locale.ROOT, "%-22s %-11s %-4s %-5s %-62s %s%n", "BACKEND", "AVAILABLE", "GEN", "VCPUS", "CAPABILITIES",
                "DESCRIPTION");
        for (BackendLoader.Found f : loaded.backends().values()) {
            DirtyLogBackend b = f.backend();
            Availability a = b.availability();
            Capabilities c = b.capabilities();
            String caps = c.features().stream().sorted().map(Capability::label).collect(Collectors.joining(","));
            out.printf(Locale.ROOT, "%-22s %-11s %-4d %-5d %-62s %s%s%n", b.name(), a.available() ? "yes" : "no",
                    c.userDirtyLogGeneration(), c.maxVcpus(), caps, b.description(),
                    f.origin().equals("built-in") ? "" : " [" + f.origin() + "]");
            if (!a.available()) {
                out.println("    unavailable: " + a.reason());
            }
        }
        for (String p : loaded.problems()) {
            out.println("problem: " + p);
        }
        return 0;
    }
}
