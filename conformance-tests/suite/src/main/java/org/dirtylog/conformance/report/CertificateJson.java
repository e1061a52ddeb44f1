package org.dirtylog.conformance.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.Concurrency;
import org.dirtylog.conformance.Perturbation;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.Step;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.spi.Capability;

/** Writes {@code certificate.json}: the machine-readable certificate. */
public final class CertificateJson {

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private CertificateJson() {
    }

    /** Returns the certificate as a JSON tree. */
    public static ObjectNode toJson(Certificate c) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("backend", c.backend());
        root.put("description", c.description());
        root.put("certified", c.certified());
        root.put("reason", c.reason());
        root.put("kit_version", c.kitVersion());
        root.put("seed", c.seed());
        ObjectNode caps = root.putObject("capabilities");
        ArrayNode features = caps.putArray("features");
        for (Capability f : Capability.values()) {
            if (c.capabilities().has(f)) {
                features.add(f.label());
            }
        }
        caps.put("user_dirty_log_generation", c.capabilities().userDirtyLogGeneration());
        caps.put("max_vcpus", c.capabilities().maxVcpus());
        caps.put("guest_phys_base", "0x" + Long.toHexString(c.capabilities().guestPhysBase()));
        caps.put("guest_phys_limit", "0x" + Long.toHexString(c.capabilities().guestPhysLimit()));
        root.put("started", c.started().toString());
        root.put("seconds", round(c.seconds()));
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
        ArrayNode notRun = root.putArray("must_rules_not_run");
        c.mustRulesNotRun().forEach(notRun::add);
        ObjectNode summary = root.putObject("summary");
        c.summary().forEach((v, n) -> summary.put(v.name(), n));
        return root;
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

    /** Writes the certificate to {@code file}. */
    public static void write(Certificate c, Path file) throws IOException {
        MAPPER.writeValue(file.toFile(), toJson(c));
    }

    private static double round(double seconds) {
        return Math.round(seconds * 1000) / 1000.0;
    }
}
