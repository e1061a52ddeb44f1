package org.dirtylog.conformance.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.UncheckedIOException;
import java.util.Map;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.Concurrency;
import org.dirtylog.conformance.Perturbation;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.RuleTrace;
import org.dirtylog.conformance.RunOptions;
import org.dirtylog.conformance.Step;
import org.dirtylog.conformance.TraceCheck;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.Capability;

/**
 * Renders {@code certificate.json}: the machine-readable certificate. Seeds are strings, since
 * a 64-bit seed as a JSON number is rounded by JavaScript and jq, and a rounded seed replays
 * other sequences. A lone surrogate in a backend's text is written as a visible
 * {@code \}{@code uXXXX}, as in the HTML and XML reports, since jq rejects it escaped.
 */
public final class CertificateJson {

    private CertificateJson() {
    }

    /** Returns the certificate as a JSON tree. */
    public static ObjectNode toJson(Certificate c) {
        ObjectNode root = Json.COMPACT.createObjectNode();
        root.put("backend", c.backend());
        root.put("description", c.description());
        root.put("certified", c.certified());
        root.put("reason", c.reason());
        // SHOULD rules that failed: the backend may be certified, and these come first for a reader.
        ArrayNode warnings = root.putArray("warnings");
        c.warnings().forEach(warnings::add);
        root.put("kit_version", c.kitVersion());
        root.put("seed", Long.toString(c.seed()));
        options(root.putObject("options"), c.options(), c);
        if (c.capabilities().isPresent()) {
            capabilities(root.putObject("capabilities"), c.capabilities().get());
        } else {
            root.putNull("capabilities");
        }
        root.put("started", c.started().toString());
        root.put("seconds", round(c.seconds()));
        root.put("interrupted", c.interruption().isPresent());
        ObjectNode env = root.putObject("environment");
        env.put("jdk", c.environment().jdk());
        env.put("os", c.environment().os());
        env.put("kernel", c.environment().kernel());
        env.put("cpus", c.environment().cpus());
        ArrayNode rules = root.putArray("rules");
        for (RuleResult r : c.results()) {
            ObjectNode n = rules.addObject();
            n.put("id", r.rule().id());
            n.put("statement", r.rule().statement());
            n.put("source", r.rule().source());
            n.put("level", r.rule().level().name());
            n.put("verdict", r.verdict().name());
            n.put("message", r.message());
            n.put("seconds", round(r.seconds()));
            if (r.concurrency() != null) {
                concurrency(n.putObject("concurrency"), r.concurrency());
            }
            if (r.trace() != null) {
                trace(n.putObject("trace"), r.rule().id(), r.trace());
            }
            if (r.verdict() == Verdict.FAIL) {
                n.put("expected", r.expected());
                n.put("actual", r.actual());
            }
            if (r.verdict() == Verdict.FAIL || r.verdict() == Verdict.ERROR) {
                ArrayNode steps = n.putArray("scenario");
                for (Step s : r.scenario()) {
                    steps.addObject().put("actor", s.actor()).put("call", s.call()).put("result", s.result());
                }
            }
        }
        ArrayNode notRun = root.putArray("rules_not_run");
        c.rulesNotRun().forEach(notRun::add);
        ArrayNode mustNotRun = root.putArray("must_rules_not_run");
        c.mustRulesNotRun().forEach(mustNotRun::add);
        ObjectNode summary = root.putObject("summary");
        c.summary().forEach((v, n) -> summary.put(v.name(), n));
        return root;
    }

    /** Fills {@code n} with where a rule's trace is and what checking it against the contract found. */
    private static void trace(ObjectNode n, String id, RuleTrace t) {
        n.put("file", RuleTrace.file(id));
        n.put("events", t.events().size());
        n.put("dropped", t.dropped());
        TraceCheck c = t.check();
        if (c == null) {
            n.put("outcome", TraceCheck.NOT_CHECKED);
            n.put("message", "not checked");
            return;
        }
        n.put("outcome", c.outcome());
        n.put("message", c.message());
        n.put("behaviours", c.behaviours());
        n.put("checked_events", c.events());
        if (c.step().isPresent()) {
            n.put("step", c.step().get());
        }
        if (c.state().isPresent()) {
            n.put("state", c.state().get());
        }
        n.put("seconds", round(c.seconds()));
    }

    /** Fills {@code n} with what a race rule covered and how its schedule was perturbed. */
    private static void concurrency(ObjectNode n, Concurrency c) {
        n.put("vcpus", c.vcpus());
        n.put("writers", c.writers());
        n.put("writes", c.writes());
        n.put("harvests", c.harvests());
        n.put("harvest_styles", c.harvestStyles());
        n.put("judged_writes", c.observations());
        n.put("min_judged_writes", c.minObservations());
        Perturbation.Settings p = c.perturbation();
        ObjectNode pn = n.putObject("perturbation");
        pn.put("mode", p.mode());
        pn.put("on", p.agentOn());
        if (p.agentOn()) {
            pn.put("probability", p.probability());
            pn.put("max_delay_us", p.maxDelayNanos() / 1000.0);
            pn.put("seed", Long.toString(p.seed()));
            pn.put("instrumented_classes", p.instrumentedClasses());
            pn.put("noise_points", p.points());
            pn.put("delays", p.delays());
            pn.put("threads", Perturbation.THREADS);
        } else {
            pn.put("reason", p.reason());
        }
        pn.put("kit_side", Perturbation.KIT_SIDE);
    }

    /** Returns the certificate as indented UTF-8 JSON text. */
    public static byte[] render(Certificate c) {
        try {
            ObjectNode root = toJson(c);
            clean(root);
            return Json.COMPACT.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Replaces lone surrogates in every string of {@code node}, in place. */
    private static void clean(JsonNode node) {
        if (node instanceof ObjectNode o) {
            for (Map.Entry<String, JsonNode> e : o.properties()) {
                if (e.getValue().isTextual()) {
                    e.setValue(TextNode.valueOf(Text.withoutLoneSurrogates(e.getValue().asText())));
                } else {
                    clean(e.getValue());
                }
            }
        } else if (node instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                if (a.get(i).isTextual()) {
                    a.set(i, TextNode.valueOf(Text.withoutLoneSurrogates(a.get(i).asText())));
                } else {
                    clean(a.get(i));
                }
            }
        }
    }

    private static void options(ObjectNode n, RunOptions o, Certificate c) {
        n.put("seed", Long.toString(o.seed()));
        n.put("effort", o.effort());
        if (o.rules().isPresent()) {
            n.put("rules", o.rules().get());
        } else {
            n.putNull("rules");
        }
        ArrayNode jars = n.putArray("backend_jars");
        c.backendJars().forEach(jars::add);
        o.timeout().ifPresent(t -> n.put("rule_timeout_seconds", t.toMillis() / 1000.0));
    }

    private static void capabilities(ObjectNode caps, Capabilities c) {
        ArrayNode features = caps.putArray("features");
        for (Capability f : Capability.values()) {
            if (c.has(f)) {
                features.add(f.label());
            }
        }
        caps.put("user_dirty_log_generation", c.userDirtyLogGeneration());
        caps.put("max_vcpus", c.maxVcpus());
        caps.put("guest_phys_base", "0x" + Long.toHexString(c.guestPhysBase()));
        caps.put("guest_phys_limit", "0x" + Long.toHexString(c.guestPhysLimit()));
    }

    private static double round(double seconds) {
        return Math.round(seconds * 1000) / 1000.0;
    }
}
