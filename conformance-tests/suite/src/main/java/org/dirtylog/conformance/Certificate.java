package org.dirtylog.conformance;

import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.dirtylog.spi.Capabilities;

/**
 * The outcome of certifying one backend: every rule's verdict and whether the backend is
 * certified (no FAIL, no ERROR, and every MUST rule of the catalogue reached a verdict).
 *
 * @param backend the backend's name
 * @param description the backend's one-line description
 * @param capabilities what the backend declared
 * @param kitVersion the kit version that ran the rules
 * @param seed the run's seed ({@code --seed} reproduces it)
 * @param started when the run began
 * @param seconds wall time of the run
 * @param results one result per rule run, in catalogue order
 * @param mustRulesNotRun MUST rules of the catalogue that got no verdict (deselected by
 *                        {@code --rules}); any makes the run uncertified
 * @param environment where the run happened
 */
public record Certificate(String backend, String description, Capabilities capabilities, String kitVersion, long seed,
                          Instant started, double seconds, List<RuleResult> results, List<String> mustRulesNotRun,
                          Environment environment) {

    public Certificate {
        results = List.copyOf(results);
        mustRulesNotRun = List.copyOf(mustRulesNotRun);
    }

    /** Returns true when the backend is certified. */
    public boolean certified() {
        return mustRulesNotRun.isEmpty()
                && results.stream().noneMatch(r -> r.verdict() == Verdict.FAIL || r.verdict() == Verdict.ERROR);
    }

    /** Returns the number of rules per verdict, every verdict present. */
    public Map<Verdict, Integer> summary() {
        Map<Verdict, Integer> counts = new EnumMap<>(Verdict.class);
        for (Verdict v : Verdict.values()) {
            counts.put(v, 0);
        }
        results.forEach(r -> counts.merge(r.verdict(), 1, Integer::sum));
        return counts;
    }

    /** Returns one line saying why the backend is or is not certified. */
    public String reason() {
        if (certified()) {
            return "certified: no rule failed or errored, every MUST rule reached a verdict";
        }
        List<String> bad = results.stream().filter(r -> r.verdict() == Verdict.FAIL || r.verdict() == Verdict.ERROR)
                .map(r -> r.rule().id() + " " + r.verdict()).toList();
        String why = bad.isEmpty() ? "" : String.join(", ", bad);
        if (!mustRulesNotRun.isEmpty()) {
            why += (why.isEmpty() ? "" : "; ") + "MUST rules not run: " + String.join(", ", mustRulesNotRun);
        }
        return "not certified: " + why;
    }
}
