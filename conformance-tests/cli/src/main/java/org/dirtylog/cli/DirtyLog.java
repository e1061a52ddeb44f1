package org.dirtylog.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.dirtylog.conformance.KitVersion;

/**
 * {@code ./dirtylog}: dispatches to the kit's commands. Exit codes follow the commands:
 * 0 success, 1 a negative verdict (uncertified, model outcome differs), 2 bad usage,
 * 130 interrupted.
 */
public final class DirtyLog {

    private static final String USAGE = """
            usage: dirtylog <command> [options]      (dirtylog <command> --help lists its options)
              certify   certify backends against the rule catalogue (all built-in ones by default)
              backends  list the backends found, their capabilities and availability
              check     model-check the TLA+ specification with TLC
              test      run every test of the kit (./mvnw verify)
              bench     run the benchmarks
            dirtylog --version prints the kit's version.""";

    private DirtyLog() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        return run(args, System.out, System.err);
    }

    /** Runs the command in {@code args}, printing to {@code out} and {@code err}; returns the exit code. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            (args.length == 0 ? err : out).println(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        if (args[0].equals("--version")) {
            out.println("dirtylog " + KitVersion.get());
            return 0;
        }
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        return switch (args[0]) {
            case "check" -> org.dirtylog.spec.CheckCommand.run(rest);
            case "certify" -> org.dirtylog.conformance.cli.CertifyCommand.run(rest, out, err,
                    new ContractTraceChecker(Path.of(""), new org.dirtylog.spec.TlcRunner()));
            case "backends" -> org.dirtylog.conformance.cli.BackendsCommand.run(rest, out, err);
            default -> {
                err.println("dirtylog: unknown command '" + args[0]
                        + "' (known: certify, backends, check, test, bench)");
                yield 2;
            }
        };
    }
}
