package org.dirtylog.conformance.isolation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.Environment;
import org.dirtylog.conformance.KitVersion;
import org.dirtylog.conformance.Rule;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.RunOptions;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.conformance.report.Json;
import org.dirtylog.spi.Capabilities;

/**
 * Certifies one backend in child JVMs and returns the certificate, which the parent alone
 * writes. The child runs the rules and reports each result; when it ends without reporting one
 * (the backend called {@code System.exit} or {@code Runtime.halt}, crashed the JVM, exhausted the
 * heap, or went silent and was killed by the watchdog) the rule that was running gets an ERROR
 * naming what happened, and a new child runs the rules that remain. A child also quits after a
 * rule that timed out, since the backend's thread it had to abandon may still hold locks.
 */
public final class IsolatedCertification {

    /** How long a child may take to close a VM after a rule's timeout before it reports. */
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(2);

    /** What the run tells the person watching it. */
    public interface Listener {
        /** A child JVM with process id {@code pid} started on the rules that remain. */
        void childStarted(long pid, int remaining);

        /** Rule result {@code r}, the {@code index}th of {@code total}, is in. */
        void result(int index, int total, RuleResult r);
    }

    /**
     * The certificate and everything the backend's JVMs printed.
     *
     * @param certificate the verdicts
     * @param output backend prints, JVM messages and crash reports of every child, in order
     */
    public record Outcome(Certificate certificate, String output) {
    }

    private final ChildLaunch launch;
    private final Limits limits;
    private final Interruption interruption;

    /** Returns a certification that starts children with {@code launch}, bounded by {@code limits}. */
    public IsolatedCertification(ChildLaunch launch, Limits limits, Interruption interruption) {
        this.launch = launch;
        this.limits = limits;
        this.interruption = interruption;
    }

    /**
     * Returns the certificate of {@code rules} against {@code backend} as discovery listed it;
     * a backend whose metadata already failed there gets an ERROR for every rule without a child.
     *
     * @throws IOException when no child JVM can be started
     */
    public Outcome certify(Discovery.BackendInfo backend, RunOptions options, List<Path> jars, List<Rule> rules,
                           Listener listener) throws IOException, InterruptedException {
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        String name = backend.name().orElseThrow();
        String description = backend.description().orElse("");
        Optional<Capabilities> capabilities = backend.capabilities();
        Map<String, RuleResult> results = new HashMap<>();
        List<Rule> remaining = new ArrayList<>(rules);
        StringBuilder output = new StringBuilder();
        Optional<String> backendProblem = backend.problem();
        Optional<String> interrupted = Optional.empty();
        int deathsWithoutProgress = 0;
        while (backendProblem.isEmpty() && interrupted.isEmpty() && !remaining.isEmpty()) {
            ObjectNode request = request(backend, options, jars, remaining);
            String current = null;
            long ruleStart = 0;
            JsonNode calling = null;
            boolean metadataRead = false;
            boolean progress = false;
            boolean finished = false;
            String silent = null;
            try (ChildProcess child = ChildProcess.start(launch, request)) {
                interruption.track(child);
                listener.childStarted(child.pid(), remaining.size());
                long last = System.nanoTime();
                long phaseDeadline = Long.MAX_VALUE;
                while (true) {
                    long deadline = Math.min(last + limits.watchdog().toNanos(), phaseDeadline);
                    Optional<JsonNode> next = child.next(Duration.ofNanos(deadline - System.nanoTime()));
                    if (next.isEmpty()) {
                        silent = System.nanoTime() >= phaseDeadline && current != null
                                ? "the rule ran past its longest run of " + seconds(options.maxRunFor(rule(rules, current)))
                                        + " plus " + seconds(limits.watchdog()) + " and its JVM was killed"
                                : System.nanoTime() >= phaseDeadline
                                        ? "the call ran past the metadata timeout of " + seconds(limits.metadataTimeout())
                                                + " plus " + seconds(limits.watchdog()) + " and its JVM was killed"
                                        : "the JVM stopped responding (silent for " + seconds(limits.watchdog())
                                                + ") and was killed";
                        child.kill();
                        break;
                    }
                    JsonNode e = next.get();
                    last = System.nanoTime();
                    if (e == ChildProcess.END) {
                        break;
                    }
                    switch (e.get("event").asText()) {
                        case "calling" -> {
                            calling = e;
                            phaseDeadline = last + limits.metadataTimeout().toNanos() + limits.watchdog().toNanos();
                        }
                        case "backend" -> {
                            metadataRead = true;
                            phaseDeadline = Long.MAX_VALUE;
                            description = e.get("description").asText();
                            capabilities = Optional.of(Protocol.capabilities(e.get("capabilities")));
                        }
                        case "backend-problem" -> backendProblem = Optional.of(e.get("problem").asText());
                        case "rule-started" -> {
                            current = e.get("id").asText();
                            ruleStart = last;
                            phaseDeadline = last + options.maxRunFor(rule(rules, current)).toNanos()
                                    + CLOSE_GRACE.toNanos() + limits.watchdog().toNanos();
                        }
                        case "rule-result" -> {
                            RuleResult r = Protocol.result(e);
                            record(r, rules, results, remaining, listener);
                            current = null;
                            progress = true;
                            phaseDeadline = Long.MAX_VALUE;
                        }
                        case "done" -> finished = true;
                        default -> {
                        }
                    }
                }
                interruption.untrack(child);
                String cause = child.death();
                output.append(child.output());
                if (interruption.isSet()) {
                    interrupted = Optional.of("interrupted by the user" + (current != null ? " while " + current + " ran" : ""));
                    break;
                }
                if (finished || backendProblem.isPresent()) {
                    continue;
                }
                if (silent != null) {
                    cause = silent;
                }
                if (current != null) {
                    Rule rule = rule(rules, current);
                    record(new RuleResult(rule, Verdict.ERROR, cause + ", while " + current + " ran", "", "", List.of(),
                            (System.nanoTime() - ruleStart) / 1e9), rules, results, remaining, listener);
                } else if (!metadataRead) {
                    String call = calling != null ? calling.get("call").asText() : "starting the JVM";
                    backendProblem = Optional.of("backend " + name + ": " + call + " ended its JVM: " + cause);
                } else if (!progress && ++deathsWithoutProgress >= 2) {
                    backendProblem = Optional.of("backend " + name + ": its JVM ended twice between rules: " + cause);
                }
            }
        }
        if (backendProblem.isPresent()) {
            for (Rule rule : List.copyOf(remaining)) {
                record(new RuleResult(rule, Verdict.ERROR, "not run: " + backendProblem.get(), "", "", List.of(), 0), rules,
                        results, remaining, listener);
            }
        }
        List<RuleResult> ordered = rules.stream().filter(r -> results.containsKey(r.id())).map(r -> results.get(r.id()))
                .toList();
        Certificate c = new Certificate(name, description, capabilities, KitVersion.get(), options,
                jars.stream().map(Path::toString).toList(), started, (System.nanoTime() - t0) / 1e9, ordered, interrupted,
                Environment.current());
        return new Outcome(c, output.toString());
    }

    private static void record(RuleResult r, List<Rule> rules, Map<String, RuleResult> results, List<Rule> remaining,
                               Listener listener) {
        results.put(r.rule().id(), r);
        remaining.removeIf(x -> x.id().equals(r.rule().id()));
        listener.result(rules.indexOf(r.rule()) + 1, rules.size(), r);
    }

    private static Rule rule(List<Rule> rules, String id) {
        return rules.stream().filter(r -> r.id().equals(id)).findFirst().orElseThrow();
    }

    private ObjectNode request(Discovery.BackendInfo backend, RunOptions options, List<Path> jars, List<Rule> rules) {
        ObjectNode request = Json.COMPACT.createObjectNode().put("protocol", Protocol.VERSION).put("mode", "certify")
                .put("metadata_timeout_ms", limits.metadataTimeout().toMillis());
        ArrayNode jarList = request.putArray("jars");
        jars.forEach(j -> jarList.add(j.toString()));
        request.putObject("backend").put("origin", backend.origin()).put("class", backend.className())
                .put("name", backend.name().orElseThrow());
        request.set("options", Protocol.options(options));
        ArrayNode ids = request.putArray("rules");
        rules.forEach(r -> ids.add(r.id()));
        return request;
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }
}
