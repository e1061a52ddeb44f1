package org.dirtylog.conformance.report;

import java.util.ArrayList;
import java.util.List;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.RunOptions;

/** The command line that repeats a certification run, as the reports show it. */
public final class Reproduce {

    private Reproduce() {
    }

    /**
     * Returns the {@code ./dirtylog certify} command, shell-quoted, that runs {@code backends}
     * again with the same {@code --backend-jar} files, rule pattern, effort and seed.
     */
    public static String command(List<String> backends, RunOptions options, List<String> backendJars) {
        List<String> args = new ArrayList<>(List.of("./dirtylog", "certify"));
        for (String jar : backendJars) {
            args.add("--backend-jar");
            args.add(jar);
        }
        for (String b : backends) {
            args.add("--backend");
            args.add(b);
        }
        options.rules().ifPresent(p -> {
            args.add("--rules");
            args.add(p);
        });
        if (options.effort() != 1) {
            args.add("--effort");
            args.add(Certificate.effortText(options.effort()));
        }
        if (options.trace()) {
            args.add("--trace");
        }
        args.add("--seed");
        args.add(Long.toString(options.seed()));
        return Text.shellCommand(args);
    }

    /** Returns the command that repeats the run of {@code c}. */
    public static String command(Certificate c) {
        return command(List.of(c.backend()), c.options(), c.backendJars());
    }
}
