package org.dirtylog.selftest;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.ObjLongConsumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.ConformanceRunner;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.RunOptions;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.spi.DirtyLogBackend;

/** Runs the suite from the self-tests and reads verdicts out of certificates. */
final class Certify {

    private Certify() {
    }

    /** Returns the certificate of the whole catalogue against {@code backend}. */
    static Certificate all(DirtyLogBackend backend, long seed) {
        return new ConformanceRunner(RunOptions.withSeed(seed), System.out).certify(backend);
    }

    /** Returns the certificate of the rules matching {@code pattern}. */
    static Certificate rules(DirtyLogBackend backend, long seed, String pattern) {
        return new ConformanceRunner(RunOptions.withSeed(seed).withRules(pattern), System.out).certify(backend);
    }

    /** Returns the certificate of the rules matching {@code pattern}, their randomized parts scaled by {@code effort}. */
    static Certificate rules(DirtyLogBackend backend, long seed, String pattern, double effort) {
        return new ConformanceRunner(RunOptions.withSeed(seed).withRules(pattern).withEffort(effort), System.out)
                .certify(backend);
    }

    /** Returns the certificate of the rules matching {@code pattern}, each limited to {@code timeout}. */
    static Certificate rules(DirtyLogBackend backend, long seed, String pattern, Duration timeout) {
        return new ConformanceRunner(RunOptions.withSeed(seed).withRules(pattern).withTimeout(timeout), System.out)
                .certify(backend);
    }

    /**
     * Returns the first FAIL of {@code rules} against {@code backend} at {@code effort}, empty when
     * none failed: seeds in turn, and on each seed the rules one at a time in the given order (a
     * rule's seed is derived from the run's seed and its id, so a rule alone runs what it runs
     * among others, and the rules after a catch need not run). No rule may ERROR; {@code check}
     * sees every other result, with its seed, before the next rule runs.
     */
    static Optional<RuleResult> firstFail(Supplier<? extends DirtyLogBackend> backend, long[] seeds, List<String> rules,
                                          double effort, ObjLongConsumer<RuleResult> check) {
        for (long seed : seeds) {
            for (String id : rules) {
                DirtyLogBackend b = backend.get();
                RuleResult r = result(rules(b, seed, id, effort), id);
                if (r.verdict() == Verdict.ERROR) {
                    throw new AssertionError(b.name() + " seed " + seed + ": " + id + " ERROR " + r.message());
                }
                check.accept(r, seed);
                if (r.verdict() == Verdict.FAIL) {
                    return Optional.of(r);
                }
            }
        }
        return Optional.empty();
    }

    /** Returns each rule's verdict. */
    static Map<String, Verdict> verdicts(Certificate c) {
        return c.results().stream().collect(Collectors.toMap(r -> r.rule().id(), RuleResult::verdict));
    }

    /** Returns the result of rule {@code id}. */
    static RuleResult result(Certificate c, String id) {
        return c.results().stream().filter(r -> r.rule().id().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError("rule " + id + " did not run"));
    }

    /** Returns a readable list of the non-passing verdicts, for assertion messages. */
    static String problems(Certificate c) {
        return c.results().stream().filter(r -> r.verdict() == Verdict.FAIL || r.verdict() == Verdict.ERROR)
                .map(r -> r.rule().id() + " " + r.verdict() + ": " + r.message()).collect(Collectors.joining("\n"));
    }
}
