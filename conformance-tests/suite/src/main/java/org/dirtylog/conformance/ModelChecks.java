package org.dirtylog.conformance;

import static org.quicktheories.QuickTheory.qt;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.dirtylog.conformance.model.Op;
import org.dirtylog.conformance.model.OpGenerator;
import org.dirtylog.conformance.model.Shrinker;
import org.dirtylog.conformance.model.SpecModel;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.KvmApi;

/** The model-based rule: random operation sequences against the backend and the {@link SpecModel}. */
final class ModelChecks {

    private static final int SEQUENCES = 120;
    private static final long BUDGET_MILLIS = 12_000;
    private static final int SHRINK_BUDGET = 400;

    private ModelChecks() {
    }

    static void sequencesAgreeWithTheModel(Scenario s) {
        long base = s.layout().allocateGpa(SpecModel.WINDOWS * SpecModel.WINDOW_PAGES * KvmApi.PAGE_SIZE);
        s.nrMemslots();
        OpGenerator generator = new OpGenerator(s.has(Capability.USER_DIRTY_LOG), s.has(Capability.MEMSLOT_MOVE),
                Math.min(s.caps().maxVcpus(), 3), 5, 40,
                s.has(Capability.MANUAL_DIRTY_LOG_PROTECT) ? s.declaredManualFlags() : 0);
        Predicate<List<Op>> fails = ops -> {
            try (Scenario fresh = s.fork()) {
                return new SequenceRunner(fresh, generator, base).run(ops).isPresent();
            }
        };
        long deadline = System.nanoTime() + (long) (BUDGET_MILLIS * s.options().effort()) * 1_000_000;
        List<List<Op>> failing = new ArrayList<>();
        int[] tried = {0, 0};
        try {
            qt().withFixedSeed(s.seed()).withExamples(s.options().scaled(SEQUENCES)).withShrinkCycles(0)
                    .forAll(generator.sequences()).check(ops -> {
                        if (!failing.isEmpty() || System.nanoTime() > deadline) {
                            return true;
                        }
                        tried[0]++;
                        tried[1] += ops.size();
                        if (fails.test(ops)) {
                            failing.add(ops);
                            return false;
                        }
                        return true;
                    });
        } catch (AssertionError falsified) {
            if (failing.isEmpty()) {
                throw falsified;
            }
        }
        if (failing.isEmpty()) {
            s.recorder().summarise(tried[0] + " sequences (" + tried[1] + " operations, --seed " + s.options().seed()
                    + ") agreed with the model");
            return;
        }
        List<Op> original = failing.get(0);
        List<Op> minimal = Shrinker.minimise(original, fails, SHRINK_BUDGET);
        s.recorder().note("sequence " + tried[0] + " of --seed " + s.options().seed() + " failed (" + original.size() + " operations); replaying the "
                + minimal.size() + "-operation minimum found by shrinking", "");
        Optional<SequenceRunner.Mismatch> m = new SequenceRunner(s, generator, base).run(minimal);
        if (m.isEmpty()) {
            throw new RuleFailure("sequence " + tried[0] + " of --seed " + s.options().seed() + " (not reproducible on replay)",
                    "the model's results", "a mismatch in " + original.stream().map(Op::describe).toList());
        }
        throw new RuleFailure("minimal failing sequence (" + minimal.size() + " of " + original.size()
                + " operations, --seed " + s.options().seed() + ", sequence " + tried[0] + "), " + m.get().describe().replaceFirst(
                        ": expected.*", ""), m.get().expected(), m.get().actual());
    }
}
