package org.dirtylog.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.dirtylog.conformance.cli.CertifyCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code certify --trace} on the reference backends, as CI runs it: every rule's calls are
 * recorded as NDJSON in the report, and each trace is checked against the contract (by TLC, and
 * over the recorded call windows where calls overlap). Every deterministic rule's trace and
 * every MODEL-01 sequence conforms, the dirty ring's included; a race rule (one whose certificate
 * carries a concurrency record) conforms or, when even its windows cannot judge it, is not
 * checked and says why.
 */
class CertifyTraceTests {

    private static final List<String> REFERENCE = List.of("reference-x86", "reference-ppc", "reference-ia64");
    /**
     * The one rule that resets ring entries it marked RESET by hand (to test which prefix a reset
     * walks): which pages they named is in no event, so that VM is not checked and says so.
     */
    private static final String HAND_MARKED_RING_ENTRIES = "RING-08";

    @Test
    void everyDeterministicRuleAndEveryModelSequenceOfTheReferenceBackendsConformsToTheContract(@TempDir Path dir)
            throws Exception {
        Path report = dir.resolve("report");
        List<String> args = new ArrayList<>(List.of("--trace", "--seed", "20261201"));
        REFERENCE.forEach(b -> args.addAll(List.of("--backend", b)));
        Cli.Run r = Cli.certify(report, args.toArray(String[]::new));
        assertEquals(0, r.exit(), r::toString);
        assertTrue(r.out().contains("  traces: "), r.out());
        // The cost of checking, per backend, for the build log.
        r.out().lines().filter(l -> l.startsWith("certify ") || l.startsWith("  traces: ") || l.startsWith("reference-"))
                .forEach(System.out::println);
        ObjectMapper json = new ObjectMapper();
        for (String backend : REFERENCE) {
            JsonNode c = Cli.json(report.resolve(backend).resolve("certificate.json"));
            int traced = 0;
            for (JsonNode rule : c.get("rules")) {
                String id = rule.get("id").asText();
                JsonNode t = rule.get("trace");
                if (rule.get("verdict").asText().equals("NOT_APPLICABLE") && rule.get("message").asText().startsWith("needs ")) {
                    continue;
                }
                assertTrue(t != null && t.get("file").asText().equals("traces/" + id + ".ndjson"), backend + " " + id);
                traced++;
                Path file = report.resolve(backend).resolve(t.get("file").asText());
                List<String> lines = Files.readAllLines(file);
                assertEquals(t.get("events").asInt(), lines.size(), file.toString());
                for (int i = 0; i < lines.size(); i++) {
                    assertEquals(i, json.readTree(lines.get(i)).get("seq").asInt(), file + " line " + (i + 1));
                }
                String outcome = t.get("outcome").asText();
                assertTrue(!outcome.equals("rejected"), backend + " " + id + ": " + t);
                if (id.equals(HAND_MARKED_RING_ENTRIES)) {
                    assertEquals("conforms", outcome, backend + " " + id + ": " + t);
                    assertTrue(t.get("message").asText().matches("trace conforms: 1 of 2 behaviours checked; 1 not checked "
                            + "\\(VM 0: KVM_RESET_DIRTY_RINGS at seq \\d+ reset \\d+ entries the collector did not take .*"),
                            backend + " " + id + ": " + t);
                    continue;
                }
                if (rule.has("concurrency") && outcome.equals("not checked")) {
                    // A race rule the windows cannot judge (its slots change while vCPUs write) says why.
                    assertTrue(t.get("message").asText().contains("; over windows: "), backend + " " + id + ": " + t);
                    continue;
                }
                assertEquals("conforms", outcome, backend + " " + id + ": " + t);
                assertEquals(t.get("behaviours").asInt() > 0, true, backend + " " + id + ": " + t);
                String message = t.get("message").asText();
                assertTrue(message.matches("trace conforms: (\\d+) of \\1 behaviours? checked.*"), backend + " " + id + ": " + t);
            }
            assertTrue(traced >= 30, backend + ": " + traced + " traced rules");
            JsonNode model = Cli.rule(c, "MODEL-01").get("trace");
            // Every sequence is checked (the message above says "N of N"), x86's manual-protect ones with INITIALLY_SET included.
            assertTrue(model.get("behaviours").asInt() >= 100, model.toString());
            String html = Files.readString(report.resolve(backend).resolve("index.html"));
            assertTrue(html.contains("<h2 id=\"traces\">Traces</h2>") && html.contains("<a href=\"traces/MODEL-01.ndjson\">"),
                    backend);
        }
    }

    @Test
    void traceWithoutTheCheckerOfTheKitsCliIsABadUsageLine(@TempDir Path dir) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = CertifyCommand.run(List.of("--trace", "--report", dir.resolve("r").toString()),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, exit);
        assertEquals("dirtylog certify: --trace needs the TLA+ trace checker, which only ./dirtylog provides "
                + "(see dirtylog certify --help)\n", err.toString(StandardCharsets.UTF_8));
        assertTrue(Files.notExists(dir.resolve("r")));
    }
}
