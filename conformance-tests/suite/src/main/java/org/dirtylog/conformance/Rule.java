package org.dirtylog.conformance;

import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import org.dirtylog.spi.Capability;

/**
 * One entry of the rule catalogue.
 *
 * @param id stable identifier, e.g. {@code GET-02}; never reused for another meaning
 * @param statement one line saying what a conformant backend does
 * @param source where the rule comes from: RFC section, {@code api.rst} section, semantics
 *               note section or the TLA+ property it checks
 * @param level MUST or SHOULD
 * @param requires capabilities the backend needs for the rule to apply
 * @param minVcpus vCPUs the rule needs at once
 * @param timeout how long the rule may run before it is an ERROR
 * @param check what the rule does to a backend: returns normally for PASS, throws
 *              {@link RuleFailure} for FAIL, {@link NotApplicable} or anything else for the
 *              runner to classify
 */
public record Rule(String id, String statement, String source, Level level, Set<Capability> requires,
                   int minVcpus, Duration timeout, Check check) {

    /** The code of a rule: it drives one backend VM through a {@link Scenario}. */
    @FunctionalInterface
    public interface Check {

        /** Runs the rule's calls against the scenario's VM; returns normally when the rule holds. */
        void run(Scenario s) throws Exception;
    }

    public Rule {
        requires = Set.copyOf(requires);
        Objects.requireNonNull(check, "check of rule " + id);
    }
}
