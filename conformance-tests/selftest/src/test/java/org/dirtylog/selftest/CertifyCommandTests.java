package org.dirtylog.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.dirtylog.conformance.RuleCatalogue;
import org.dirtylog.conformance.cli.BackendsCommand;
import org.dirtylog.conformance.cli.CertifyCommand;
import org.dirtylog.example.MinimalBackend;
import org.dirtylog.spi.DirtyLogBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code certify} and {@code backends} as a user runs them: exit codes, messages, report files. */
class CertifyCommandTests {

    /** What a command printed and returned. */
    private record Run(int exit, String out, String err) {
    }

    private static Run certify(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = CertifyCommand.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void certifyingTheExampleBackendExitsZeroAndWritesTheThreeReports(@TempDir Path dir) throws IOException {
        Run r = certify("--backend", "example-minimal", "--report", dir.toString(), "--seed", "42");
        assertEquals(0, r.exit(), r.out() + r.err());
        int rules = RuleCatalogue.rules().size();
        // The RFC, manual-protect and ring rules: example-minimal declares none of those capabilities.
        long notApplicable = RuleCatalogue.rules().stream()
                .filter(rule -> !new MinimalBackend().capabilities().features().containsAll(rule.requires())).count();
        assertTrue(r.out().contains("[" + rules + "/" + rules + "] RING-13"), r.out());
        assertTrue(r.out().contains("example-minimal          certified"), r.out());
        JsonNode json = new ObjectMapper().readTree(dir.resolve("certificate.json").toFile());
        for (String field : List.of("backend", "certified", "kit_version", "seed", "capabilities", "started", "seconds",
                "rules", "summary")) {
            assertTrue(json.has(field), "certificate.json lacks " + field);
        }
        assertEquals("example-minimal", json.get("backend").asText());
        assertTrue(json.get("certified").asBoolean());
        assertEquals("42", json.get("seed").asText());
        assertEquals("42", json.get("options").get("seed").asText());
        assertEquals(1.0, json.get("options").get("effort").asDouble());
        assertTrue(json.get("options").get("rules").isNull());
        assertEquals(rules, json.get("rules").size());
        JsonNode rule = json.get("rules").get(0);
        for (String field : List.of("id", "statement", "source", "level", "verdict", "message", "seconds")) {
            assertTrue(rule.has(field), "rule entry lacks " + field);
        }
        assertEquals(notApplicable, json.get("summary").get("NOT_APPLICABLE").asInt());
        assertEquals(0, json.get("summary").get("FAIL").asInt());
        String xml = Files.readString(dir.resolve("junit.xml"));
        assertTrue(xml.contains("tests=\"" + (rules + 1) + "\" failures=\"0\" errors=\"0\" skipped=\"" + notApplicable + "\""), xml);
        assertTrue(xml.contains("name=\"certified: example-minimal\" time=\"0\"/>"), xml);
        String html = Files.readString(dir.resolve("index.html"));
        assertTrue(html.contains("<body>\n<p class=\"big PASS\" id=\"verdict\">CERTIFIED</p>"), html);
        assertTrue(html.contains("<code>./dirtylog certify --backend example-minimal --seed 42</code>") && html.contains("Kernel"),
                html);
    }

    @Test
    void theJvmThatRunsTheRulesHasThePerturbationAgentAndTheCertificateSaysWhatItDid(@TempDir Path dir) throws IOException {
        // The rules run in a child JVM: the agent must be attached there, not only in this one.
        Run r = certify("--backend", "reference-x86", "--rules", "RACE-02", "--report", dir.toString(), "--seed", "7");
        assertEquals(1, r.exit(), "a partial run is never certified: " + r.out() + r.err());
        JsonNode rule = new ObjectMapper().readTree(dir.resolve("certificate.json").toFile()).get("rules").get(0);
        assertEquals("PASS", rule.get("verdict").asText(), rule.toString());
        JsonNode c = rule.get("concurrency");
        assertTrue(c != null && c.get("judged_writes").asLong() >= c.get("min_judged_writes").asLong(), rule.toString());
        JsonNode p = c.get("perturbation");
        assertEquals("agent", p.get("mode").asText(), p.toString());
        assertTrue(p.get("instrumented_classes").asInt() > 0 && p.get("delays").asLong() > 0, p.toString());
        assertTrue(p.hasNonNull("seed") && p.hasNonNull("probability"), p.toString());
    }

    @Test
    void aFailingBackendExitsOneAndItsPageShowsTheScenarioAsSteps(@TempDir Path dir) throws Exception {
        Path jar = compileBackendJar(dir, "third-party-broken", """
                    public org.dirtylog.spi.IoctlResult<org.dirtylog.spi.BackendVm> createVm() {
                        org.dirtylog.spi.BackendVm vm = d.createVm().value();
                        return org.dirtylog.spi.IoctlResult.ok((org.dirtylog.spi.BackendVm) java.lang.reflect.Proxy.newProxyInstance(
                            getClass().getClassLoader(), new Class<?>[] {org.dirtylog.spi.BackendVm.class}, (p, m, a) -> {
                                if (m.getName().equals("getDirtyLog") && (Integer) a[0] >= 32) {
                                    return org.dirtylog.spi.IoctlResult.err(org.dirtylog.spi.Errno.ENOENT);
                                }
                                return m.invoke(vm, a);
                            }));
                    }
                """);
        Path report = dir.resolve("report");
        Run r = certify("--backend-jar", jar.toString(), "--backend", "third-party-broken", "--report", report.toString(),
                "--seed", "7", "--rules", "GET-05,GET-07");
        assertEquals(1, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("GET-05        FAIL"), r.out());
        String html = Files.readString(report.resolve("index.html"));
        assertTrue(html.contains("<h2 id=\"GET-05\">GET-05 FAIL</h2>"), html);
        assertTrue(html.contains("<th>Expected</th><td>-EINVAL</td>"), html);
        assertTrue(html.contains("KVM_GET_DIRTY_LOG(slot=32, dirty_bitmap=0x1000)"), html);
        assertTrue(html.contains("NOT CERTIFIED"), html);
    }

    @Test
    void severalBackendsGetOneDirectoryEachAndATopLevelIndex(@TempDir Path dir) throws Exception {
        Path jar = compileBackendJar(dir, "third-party-ok", "");
        Path report = dir.resolve("report");
        Run r = certify("--backend-jar", jar.toString(), "--backend", "example-minimal", "--backend", "third-party-ok",
                "--report", report.toString(), "--seed", "3", "--rules", "GET-*");
        assertEquals(1, r.exit(), "a --rules subset leaves MUST rules without a verdict: " + r.out() + r.err());
        assertTrue(r.out().contains("MUST rules not run"), r.out());
        assertTrue(Files.isRegularFile(report.resolve("example-minimal/certificate.json")));
        assertTrue(Files.isRegularFile(report.resolve("third-party-ok/junit.xml")));
        String index = Files.readString(report.resolve("index.html"));
        assertTrue(index.contains("example-minimal/index.html") && index.contains("third-party-ok/index.html"), index);
    }

    @Test
    void anUnknownBackendIsBadUsageAndListsTheKnownOnes(@TempDir Path dir) {
        Run r = certify("--backend", "no-such-backend", "--report", dir.resolve("r").toString());
        assertEquals(2, r.exit());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("unknown backend 'no-such-backend' (known: ") && r.err().contains("example-minimal"), r.err());
    }

    @Test
    void anUnavailableBackendIsBadUsageWithItsReason(@TempDir Path dir) throws Exception {
        Path jar = compileBackendJar(dir, "third-party-offline", """
                    public org.dirtylog.spi.Availability availability() {
                        return org.dirtylog.spi.Availability.unavailable("needs /dev/frobnicator; load the frob module");
                    }
                """);
        Run r = certify("--backend-jar", jar.toString(), "--backend", "third-party-offline", "--report",
                dir.resolve("r").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("backend 'third-party-offline' is not available here: needs /dev/frobnicator"), r.err());
    }

    @Test
    void badOptionsAreBadUsageWithOneLine(@TempDir Path dir) {
        for (String[] args : List.of(new String[] {"--seed", "x"}, new String[] {"--frobnicate", "1"},
                new String[] {"--rules", "NOPE-*"}, new String[] {"--backend-jar", "/no/such.jar"},
                new String[] {"--backend"}, new String[] {"stray"})) {
            List<String> all = new ArrayList<>(List.of(args));
            all.addAll(List.of("--report", dir.resolve("r").toString()));
            Run r = certify(all.toArray(String[]::new));
            assertEquals(2, r.exit(), String.join(" ", args));
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith("dirtylog certify: "), r.err());
        }
    }

    @Test
    void backendsListsNamesCapabilitiesAndAvailability(@TempDir Path dir) throws Exception {
        Path jar = compileBackendJar(dir, "third-party-offline", """
                    public org.dirtylog.spi.Availability availability() {
                        return org.dirtylog.spi.Availability.unavailable("needs /dev/frobnicator");
                    }
                """);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = BackendsCommand.run(List.of("--backend-jar", jar.toString()), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, exit, () -> text + err);
        assertEquals("", err.toString(StandardCharsets.UTF_8));
        assertTrue(text.contains("example-minimal") && text.contains("get-dirty-log,memslot-move,guest-writes,random-writes"),
                text);
        assertTrue(text.contains("third-party-offline") && text.contains("unavailable: needs /dev/frobnicator"), text);
        assertFalse(text.contains("problem:"), text);
    }

    /**
     * Returns a jar holding one backend named {@code name} that forwards to example-minimal,
     * with {@code overrides} pasted into its body, compiled now and listed for ServiceLoader:
     * what a third party ships for {@code --backend-jar}.
     */
    private static Path compileBackendJar(Path dir, String name, String overrides) throws IOException, URISyntaxException {
        String cls = "JarBackend" + Integer.toHexString(name.hashCode());
        String source = """
                package com.thirdparty;
                public final class %s implements org.dirtylog.spi.DirtyLogBackend {
                    private final org.dirtylog.spi.DirtyLogBackend d = new org.dirtylog.example.MinimalBackend();
                    public String name() { return "%s"; }
                    public String description() { return "third-party backend loaded from a jar"; }
                %s
                }
                """.formatted(cls, name, overrides);
        for (String method : List.of("availability", "capabilities", "createVm")) {
            if (!overrides.contains(" " + method + "()")) {
                String type = switch (method) {
                    case "availability" -> "org.dirtylog.spi.Availability";
                    case "capabilities" -> "org.dirtylog.spi.Capabilities";
                    default -> "org.dirtylog.spi.IoctlResult<org.dirtylog.spi.BackendVm>";
                };
                source = source.replaceFirst("\\n}\\n$", "\n    public " + type + " " + method + "() { return d." + method
                        + "(); }\n}\n");
            }
        }
        Path src = dir.resolve("src/com/thirdparty/" + cls + ".java");
        Path classes = dir.resolve("classes-" + name);
        Files.createDirectories(src.getParent());
        Files.createDirectories(classes);
        Files.writeString(src, source);
        String classpath = location(DirtyLogBackend.class) + java.io.File.pathSeparator + location(MinimalBackend.class);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int rc = javac.run(null, null, null, "-d", classes.toString(), "-cp", classpath, src.toString());
        assertEquals(0, rc, "compiling the third-party backend");
        Path jar = dir.resolve(name + ".jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar)); Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                out.write(Files.readAllBytes(f));
                out.closeEntry();
            }
            out.putNextEntry(new JarEntry("META-INF/services/org.dirtylog.spi.DirtyLogBackend"));
            out.write(("com.thirdparty." + cls + "\n").getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        return jar;
    }

    private static String location(Class<?> c) throws URISyntaxException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }
}
