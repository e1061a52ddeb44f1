package org.dirtylog.conformance.isolation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import org.dirtylog.conformance.Rule;
import org.dirtylog.conformance.RuleCatalogue;
import org.dirtylog.conformance.Concurrency;
import org.dirtylog.conformance.Perturbation;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.RuleTrace;
import org.dirtylog.conformance.RunOptions;
import org.dirtylog.conformance.Step;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.conformance.report.Json;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.Capability;

/**
 * The parent-child protocol, version {@value #VERSION}. The parent writes one JSON request line
 * to the child's stdin and keeps the pipe open: its end (the parent died) makes the child halt.
 * The child answers on stdout with one JSON event per line ({@code "event"} names it):
 *
 * <ul>
 *   <li>{@code hello} (pid) first, then {@code alive} every second, so a silent child is a stuck one;</li>
 *   <li>{@code calling} (origin, class, call, name once known) before each call of a backend's
 *       constructor or metadata method, so a JVM that dies in one is blamed on it;</li>
 *   <li>describe: {@code jar-problem} (origin, problem) and {@code provider} (origin, class, name,
 *       description, available, reason, capabilities, or problem) per backend;</li>
 *   <li>certify: {@code backend} (name, description, capabilities) or {@code backend-problem}
 *       (call, problem), then {@code rule-started} (id) and {@code rule-result} (id, verdict,
 *       message, expected, actual, seconds, scenario, for a race rule concurrency, and with
 *       {@code --trace} the trace: its events as NDJSON lines and the count dropped) per rule;</li>
 *   <li>{@code exit-called} (status, at) when code calls {@code System.exit};
 *       {@code restart} (reason) when the child quits because a rule left a thread running;
 *       {@code child-failed} (problem) when the kit's own code failed; {@code done} at the end.</li>
 * </ul>
 *
 * Backend output never shares the channel: the child points {@code System.out} at stderr. Lines
 * on stdout that are not events (native code writing to fd 1, the JVM's crash banner) are kept as
 * output, never trusted. The channel guards against a backend that dies, hangs or prints, not
 * against one that forges events: code in the child's JVM could change any result anyway.
 */
final class Protocol {

    static final int VERSION = 1;

    /** The longest event line the parent reads; longer lines are dropped as garbage. */
    static final int MAX_LINE = 16 << 20;

    private Protocol() {
    }

    static ObjectNode event(String name) {
        return Json.COMPACT.createObjectNode().put("event", name);
    }

    static ObjectNode capabilities(Capabilities c) {
        ObjectNode n = Json.COMPACT.createObjectNode();
        ArrayNode features = n.putArray("features");
        c.features().stream().sorted().forEach(f -> features.add(f.name()));
        n.put("generation", c.userDirtyLogGeneration());
        n.put("max_vcpus", c.maxVcpus());
        n.put("base", c.guestPhysBase());
        n.put("limit", c.guestPhysLimit());
        return n;
    }

    static Capabilities capabilities(JsonNode n) {
        EnumSet<Capability> features = EnumSet.noneOf(Capability.class);
        n.get("features").forEach(f -> features.add(Capability.valueOf(f.asText())));
        return new Capabilities(features, n.get("generation").asInt(), n.get("max_vcpus").asInt(), n.get("base").asLong(),
                n.get("limit").asLong());
    }

    static ObjectNode options(RunOptions o) {
        ObjectNode n = Json.COMPACT.createObjectNode();
        n.put("seed", Long.toString(o.seed()));
        n.put("effort", o.effort());
        o.rules().ifPresent(p -> n.put("rules", p));
        o.timeout().ifPresent(t -> n.put("timeout_ms", t.toMillis()));
        n.put("trace", o.trace());
        return n;
    }

    static RunOptions options(JsonNode n) {
        return new RunOptions(Long.parseLong(n.get("seed").asText()), Optional.ofNullable(n.get("rules")).map(JsonNode::asText),
                Optional.ofNullable(n.get("timeout_ms")).map(t -> Duration.ofMillis(t.asLong())), n.get("effort").asDouble(),
                n.path("trace").asBoolean(false));
    }

    static ObjectNode result(RuleResult r) {
        ObjectNode n = event("rule-result");
        n.put("id", r.rule().id());
        n.put("verdict", r.verdict().name());
        n.put("message", r.message());
        n.put("expected", r.expected());
        n.put("actual", r.actual());
        n.put("seconds", r.seconds());
        ArrayNode steps = n.putArray("scenario");
        for (Step s : r.scenario()) {
            steps.addArray().add(s.actor()).add(s.call()).add(s.result());
        }
        Concurrency c = r.concurrency();
        if (c != null) {
            ObjectNode cn = n.putObject("concurrency");
            cn.put("vcpus", c.vcpus());
            cn.put("writers", c.writers());
            cn.put("writes", c.writes());
            cn.put("harvests", c.harvests());
            cn.put("harvest_styles", c.harvestStyles());
            cn.put("observations", c.observations());
            cn.put("min_observations", c.minObservations());
            Perturbation.Settings p = c.perturbation();
            ObjectNode pn = cn.putObject("perturbation");
            pn.put("mode", p.mode());
            pn.put("reason", p.reason());
            pn.put("probability", p.probability());
            pn.put("max_delay_nanos", p.maxDelayNanos());
            pn.put("seed", Long.toString(p.seed()));
            pn.put("instrumented_classes", p.instrumentedClasses());
            pn.put("points", p.points());
            pn.put("delays", p.delays());
        }
        RuleTrace t = r.trace();
        if (t != null) {
            ObjectNode tn = n.putObject("trace");
            tn.put("dropped", t.dropped());
            ArrayNode lines = tn.putArray("events");
            t.events().forEach(lines::add);
        }
        return n;
    }

    /** Returns the trace of a {@code rule-result} event, or null when it has none. */
    private static RuleTrace trace(JsonNode n) {
        JsonNode tn = n.get("trace");
        if (tn == null || tn.isNull()) {
            return null;
        }
        List<String> lines = new ArrayList<>();
        tn.get("events").forEach(l -> lines.add(l.asText()));
        return new RuleTrace(lines, tn.get("dropped").asInt(), null);
    }

    /** Returns the concurrency record of a {@code rule-result} event, or null when it has none. */
    private static Concurrency concurrency(JsonNode n) {
        JsonNode cn = n.get("concurrency");
        if (cn == null || cn.isNull()) {
            return null;
        }
        JsonNode pn = cn.get("perturbation");
        Perturbation.Settings p = new Perturbation.Settings(pn.get("mode").asText(), pn.get("reason").asText(),
                pn.get("probability").asDouble(), pn.get("max_delay_nanos").asLong(), Long.parseLong(pn.get("seed").asText()),
                pn.get("instrumented_classes").asInt(), pn.get("points").asLong(), pn.get("delays").asLong());
        return new Concurrency(cn.get("vcpus").asInt(), cn.get("writers").asText(), cn.get("writes").asLong(),
                cn.get("harvests").asLong(), cn.get("harvest_styles").asText(), cn.get("observations").asLong(),
                cn.get("min_observations").asLong(), p);
    }

    static RuleResult result(JsonNode n) {
        Rule rule = RuleCatalogue.byId(n.get("id").asText()).orElseThrow();
        List<Step> steps = new ArrayList<>();
        n.get("scenario").forEach(s -> steps.add(new Step(s.get(0).asText(), s.get(1).asText(), s.get(2).asText())));
        return new RuleResult(rule, Verdict.valueOf(n.get("verdict").asText()), n.get("message").asText(),
                n.get("expected").asText(), n.get("actual").asText(), steps, n.get("seconds").asDouble(), concurrency(n),
                trace(n));
    }
}
