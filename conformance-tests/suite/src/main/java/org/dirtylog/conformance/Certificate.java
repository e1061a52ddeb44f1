package org.dirtylog.conformance;

import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.dirtylog.spi.Capabilities;

/**
 * The outcome of certifying one backend: every rule's verdict, how the run was configured, and
 * whether the backend is certified. Certified means: every rule of the catalogue reached a
 * verdict, no MUST rule is FAIL, no rule is ERROR, the effort was at least 1, and the run was
 * not interrupted. A SHOULD rule that fails (RFC 2119: a recommendation with valid reasons to
 * differ, e.g. precision, which a correct kernel may miss by reporting a page twice) does not
 * block certification: it is a {@linkplain #warnings() warning}, shown first in every report. An
 * ERROR of any level blocks it: the rule could not judge, so less was checked.
 *
 * @param backend the backend's name
 * @param description the backend's one-line description, empty when it could not be read
 * @param capabilities what the backend declared; empty when {@code capabilities()} could not be read
 * @param kitVersion the kit version that ran the rules
 * @param options seed, rule pattern, effort and timeout of the run ({@code --seed} etc. reproduce it)
 * @param backendJars the {@code --backend-jar} files of the run, as absolute paths
 * @param started when the run began
 * @param seconds wall time of the run
 * @param results one result per rule that reached a verdict, in catalogue order
 * @param interruption why the run stopped before its last rule (e.g. the user pressed Ctrl-C),
 *                     empty when it ran to the end
 * @param environment where the run happened
 */
public record Certificate(String backend, String description, Optional<Capabilities> capabilities, String kitVersion,
                          RunOptions options, List<String> backendJars, Instant started, double seconds,
                          List<RuleResult> results, Optional<String> interruption, Environment environment) {

    public Certificate {
        backendJars = List.copyOf(backendJars);
        results = List.copyOf(results);
    }

    /** Returns the run's seed. */
    public long seed() {
        return options.seed();
    }

    /** Returns true when the backend is certified. */
    public boolean certified() {
        return interruption.isEmpty() && rulesNotRun().isEmpty() && options.effort() >= 1
                && results.stream().noneMatch(Certificate::blocks);
    }

    /** True when {@code r} keeps a backend from being certified: an ERROR, or a FAIL of a MUST rule. */
    private static boolean blocks(RuleResult r) {
        return r.verdict() == Verdict.ERROR || r.verdict() == Verdict.FAIL && r.rule().level() == Level.MUST;
    }

    /** Returns true when {@code r} is a SHOULD rule that failed: a warning, not a bar to certification. */
    public static boolean isWarning(RuleResult r) {
        return r.verdict() == Verdict.FAIL && r.rule().level() == Level.SHOULD;
    }

    /** Returns one line per SHOULD rule that failed ({@code PREC-01 (SHOULD) FAIL: message}), in catalogue order. */
    public List<String> warnings() {
        return results.stream().filter(Certificate::isWarning)
                .map(r -> r.rule().id() + " (SHOULD) FAIL: " + r.message()).toList();
    }

    /** Returns the ids of the catalogue's rules that got no verdict (deselected, or the run stopped), in order. */
    public List<String> rulesNotRun() {
        Set<String> ran = results.stream().map(r -> r.rule().id()).collect(Collectors.toSet());
        return RuleCatalogue.rules().stream().map(Rule::id).filter(id -> !ran.contains(id)).toList();
    }

    /** Returns the MUST rules among {@link #rulesNotRun()}. */
    public List<String> mustRulesNotRun() {
        List<String> notRun = rulesNotRun();
        return RuleCatalogue.rules().stream().filter(r -> r.level() == Level.MUST && notRun.contains(r.id()))
                .map(Rule::id).toList();
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
            List<String> warned = results.stream().filter(Certificate::isWarning).map(r -> r.rule().id()).toList();
            return "certified: every rule of the catalogue reached a verdict at effort "
                    + effortText(options.effort()) + (warned.isEmpty() ? " and none failed or errored"
                    : ", no MUST rule failed and none errored; SHOULD not met: " + String.join(", ", warned));
        }
        List<String> why = new ArrayList<>();
        interruption.ifPresent(why::add);
        List<String> bad = results.stream().filter(Certificate::blocks)
                .map(r -> r.rule().id() + " " + r.verdict()).toList();
        if (!bad.isEmpty()) {
            why.add(String.join(", ", bad));
        }
        List<String> notRun = rulesNotRun();
        if (!notRun.isEmpty()) {
            int all = RuleCatalogue.rules().size();
            String partial = "partial run: " + (all - notRun.size()) + " of " + all + " rules reached a verdict"
                    + options.rules().map(p -> " (--rules " + p + ")").orElse("");
            List<String> must = mustRulesNotRun();
            why.add(partial + (must.isEmpty() ? "" : "; MUST rules not run: " + String.join(", ", must)));
        }
        if (options.effort() < 1) {
            why.add("--effort " + effortText(options.effort()) + " is below 1, the budget a certificate needs");
        }
        return "not certified: " + String.join("; ", why);
    }

    /** Returns {@code effort} as the shortest decimal that reads back as the same number, e.g. {@code 1} or {@code 0.5}. */
    public static String effortText(double effort) {
        return effort == Math.rint(effort) ? String.format(Locale.ROOT, "%.0f", effort) : Double.toString(effort);
    }
}
