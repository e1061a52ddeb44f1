package org.dirtylog.conformance;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.DirtyLogBackend;
import org.dirtylog.spi.IoctlResult;

/**
 * Runs the rule catalogue against a backend. Every rule gets a fresh VM and runs on a worker
 * thread of its own with a timeout, so a backend that hangs or throws costs one rule an ERROR
 * and the run goes on with the next rule.
 */
public final class ConformanceRunner {

    /** How long closing a VM may take after its rule ended badly before the runner moves on. */
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(2);

    private final RunOptions options;
    private final PrintStream progress;
    private volatile boolean leftThreadsRunning;

    /** Returns a runner with {@code options} that prints one line per rule to {@code progress}. */
    public ConformanceRunner(RunOptions options, PrintStream progress) {
        this.options = options;
        this.progress = progress;
    }

    /** Returns the rules these options select, in catalogue order. */
    public List<Rule> selectedRules() {
        return RuleCatalogue.rules().stream().filter(r -> options.selects(r.id())).toList();
    }

    /** Runs every selected rule against {@code backend} in this JVM and returns the certificate. */
    public Certificate certify(DirtyLogBackend backend) {
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        List<Rule> rules = selectedRules();
        progress.printf(Locale.ROOT, "certify %s (seed %d, %d rules)%n", backend.name(), options.seed(), rules.size());
        List<RuleResult> results = new ArrayList<>();
        for (int i = 0; i < rules.size(); i++) {
            RuleResult r = run(backend, rules.get(i));
            results.add(r);
            progress.printf(Locale.ROOT, "  [%2d/%d] %-13s %-14s %6.2fs  %s%n", i + 1, rules.size(), r.rule().id(),
                    r.verdict(), r.seconds(), oneLine(r.message(), 110));
            progress.flush();
        }
        return new Certificate(backend.name(), backend.description(), Optional.of(backend.capabilities()),
                KitVersion.get(), options, List.of(), started, (System.nanoTime() - t0) / 1e9, results, Optional.empty(),
                Environment.current());
    }

    /**
     * Returns true once a rule of this runner timed out or was interrupted and its worker
     * thread was abandoned: it may still hold locks or burn CPU, so a process that wants the
     * next rule to start clean replaces the JVM.
     */
    public boolean leftThreadsRunning() {
        return leftThreadsRunning;
    }

    /** Returns the seed rule {@code id} uses in a run with seed {@code runSeed}. */
    public static long ruleSeed(long runSeed, String id) {
        long h = runSeed ^ 0x9E3779B97F4A7C15L;
        for (char c : id.toCharArray()) {
            h = (h ^ c) * 0x100000001B3L;
        }
        return h ^ (h >>> 31);
    }

    /** Runs one rule against {@code backend} and returns its verdict. */
    public RuleResult run(DirtyLogBackend backend, Rule rule) {
        long t0 = System.nanoTime();
        EnumSet<Capability> missing = EnumSet.noneOf(Capability.class);
        missing.addAll(rule.requires());
        missing.removeAll(backend.capabilities().features());
        if (!missing.isEmpty()) {
            return new RuleResult(rule, Verdict.NOT_APPLICABLE, "needs capability " + missing.stream().map(Capability::label)
                    .collect(Collectors.joining(", ")) + ", which the backend does not declare", "", "", List.of(), 0);
        }
        if (backend.capabilities().maxVcpus() < rule.minVcpus()) {
            return new RuleResult(rule, Verdict.NOT_APPLICABLE, "needs " + rule.minVcpus() + " vCPUs at once; the backend has "
                    + backend.capabilities().maxVcpus(), "", "", List.of(), 0);
        }
        AtomicReference<Scenario> scenario = new AtomicReference<>();
        CompletableFuture<RuleResult> outcome = new CompletableFuture<>();
        long seed = ruleSeed(options.seed(), rule.id());
        Thread worker = Thread.ofPlatform().daemon().name("dirtylog-" + rule.id()).unstarted(() -> {
            try {
                outcome.complete(execute(backend, rule, seed, scenario));
            } catch (Throwable t) {
                outcome.complete(result(rule, Verdict.ERROR, describe(t), scenario.get(), t0));
            }
        });
        worker.start();
        Duration timeout = options.timeoutFor(rule);
        try {
            // Hung means no call returned on the rule's thread for a whole timeout; a rule that
            // keeps returning calls is slow (a loaded machine), and may run up to maxRunFor.
            long started = System.nanoTime();
            long longest = options.maxRunFor(rule).toNanos();
            while (true) {
                Scenario s = scenario.get();
                long now = System.nanoTime();
                long last = s == null ? 0 : s.lastCallReturnedOnRuleThread();
                long quietSince = last != 0 && last - started > 0 ? last : started;
                long hungAt = quietSince + timeout.toNanos();
                if (now - hungAt >= 0) {
                    throw new TimeoutException("timed out after " + seconds(timeout) + " s" + (quietSince > started
                            ? " without a returned call (the rule ran " + seconds(Duration.ofNanos(now - started)) + " s)"
                            : "") + ": the backend did not return");
                }
                if (now - started >= longest) {
                    throw new TimeoutException("still running after " + seconds(Duration.ofNanos(now - started)) + " s ("
                            + RunOptions.PROGRESS_TIMEOUTS + " times its timeout of " + seconds(timeout)
                            + " s) while its calls kept returning");
                }
                try {
                    RuleResult r = outcome.get(Math.min(hungAt, started + longest) - now, TimeUnit.NANOSECONDS);
                    return withTrace(withSeconds(r, t0), scenario.get());
                } catch (TimeoutException e) {
                    // look again: a call may have returned meanwhile
                }
            }
        } catch (TimeoutException e) {
            leftThreadsRunning = true;
            worker.interrupt();
            if (scenario.get() != null) {
                scenario.get().perturbation().off();
            }
            closeQuietly(scenario.get());
            return withTrace(result(rule, Verdict.ERROR, e.getMessage()
                    + " (the run went on; the hung thread was abandoned)", scenario.get(), t0),
                    scenario.get());
        } catch (InterruptedException e) {
            leftThreadsRunning = true;
            Thread.currentThread().interrupt();
            closeQuietly(scenario.get());
            return result(rule, Verdict.ERROR, "interrupted", scenario.get(), t0);
        } catch (ExecutionException e) {
            return result(rule, Verdict.ERROR, describe(e.getCause()), scenario.get(), t0);
        }
    }

    private static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.1f", d.toMillis() / 1000.0);
    }

    private RuleResult execute(DirtyLogBackend backend, Rule rule, long seed, AtomicReference<Scenario> scenario) {
        long t0 = System.nanoTime();
        IoctlResult<BackendVm> vm = backend.createVm();
        if (!vm.isOk()) {
            return result(rule, Verdict.ERROR, "KVM_CREATE_VM failed with " + vm.errnoOrNull(), null, t0);
        }
        Scenario s = new Scenario(backend, vm.value(), seed, options);
        scenario.set(s);
        RuleResult r;
        try {
            rule.check().run(s);
            r = result(rule, Verdict.PASS, s.recorder().summary(), s, t0);
        } catch (Throwable t) {
            // Whatever the check or the backend threw is the rule's verdict, Errors included.
            r = classify(rule, t, s, t0);
        }
        try {
            s.close();
        } catch (RuntimeException e) {
            if (r.verdict() == Verdict.PASS || r.verdict() == Verdict.NOT_APPLICABLE) {
                return result(rule, Verdict.ERROR, "closing the VM threw " + describe(e), s, t0);
            }
        }
        return r;
    }

    private static RuleResult classify(Rule rule, Throwable t, Scenario s, long t0) {
        return switch (t) {
            case RuleFailure f -> new RuleResult(rule, Verdict.FAIL, f.getMessage(), f.expected(), f.actual(), s.recorder().steps(),
                    seconds(t0), s.recorder().concurrency());
            case NotApplicable n -> result(rule, Verdict.NOT_APPLICABLE, n.getMessage(), s, t0);
            case BackendError b -> result(rule, Verdict.ERROR, b.getMessage(), s, t0);
            default -> result(rule, Verdict.ERROR, describe(t), s, t0);
        };
    }

    private static RuleResult result(Rule rule, Verdict verdict, String message, Scenario s, long t0) {
        return new RuleResult(rule, verdict, message, "", "", s == null ? List.of() : s.recorder().steps(), seconds(t0),
                s == null ? null : s.recorder().concurrency());
    }

    /** Returns {@code r} with the trace {@code s} recorded, when the run records traces and the rule got a scenario. */
    private static RuleResult withTrace(RuleResult r, Scenario s) {
        RuleTrace t = s == null ? null : s.trace();
        return t == null ? r : r.withTrace(t);
    }

    private static RuleResult withSeconds(RuleResult r, long t0) {
        return new RuleResult(r.rule(), r.verdict(), r.message(), r.expected(), r.actual(), r.scenario(), seconds(t0),
                r.concurrency());
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static String describe(Throwable t) {
        StackTraceElement[] trace = t.getStackTrace();
        String where = trace.length > 0 ? " at " + trace[0] : "";
        return "the backend threw " + t.getClass().getName() + (t.getMessage() != null ? ": " + t.getMessage() : "") + where;
    }

    private static void closeQuietly(Scenario s) {
        if (s == null) {
            return;
        }
        Thread closer = Thread.ofPlatform().daemon().name("dirtylog-close").start(() -> {
            try {
                s.close();
            } catch (RuntimeException ignored) {
                // The rule is already an ERROR; a VM that cannot even close adds nothing to report.
            }
        });
        try {
            closer.join(CLOSE_GRACE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String oneLine(String s, int max) {
        String line = s.replace('\n', ' ');
        return line.length() <= max ? line : line.substring(0, max - 3) + "...";
    }
}
