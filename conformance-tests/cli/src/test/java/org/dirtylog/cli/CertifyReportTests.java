package org.dirtylog.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import org.dirtylog.conformance.RuleCatalogue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The report of {@code ./dirtylog certify}: where it goes, what it records, and that it never says more than was checked. */
class CertifyReportTests {

    private static String firstBodyLine(String html) {
        String body = html.substring(html.indexOf("<body>") + "<body>".length()).stripLeading();
        return body.lines().findFirst().orElseThrow();
    }

    @Test
    void aSubsetIsNotCertifiedAndEverythingSaysSoWithTheOptionsAndACompleteQuotedReproduceCommand(@TempDir Path dir)
            throws Exception {
        Path jarDir = Files.createDirectories(dir.resolve("my jars"));
        Path jar = BackendJar.named("subset-me").build(jarDir);
        Path report = dir.resolve("report");
        Cli.Run r = Cli.certify(report, "--backend-jar", jar.toString(), "--backend", "subset-me", "--rules", "GET-0*",
                "--effort", "0.5", "--seed", "-5");
        assertEquals(1, r.exit(), r::toString);
        JsonNode c = Cli.json(report.resolve("certificate.json"));
        assertFalse(c.get("certified").asBoolean());
        String reason = c.get("reason").asText();
        assertTrue(reason.contains("partial run: 7 of " + RuleCatalogue.rules().size() + " rules reached a verdict (--rules GET-0*)"),
                reason);
        assertTrue(reason.contains("--effort 0.5 is below 1"), reason);
        JsonNode options = c.get("options");
        assertEquals("-5", options.get("seed").asText());
        assertTrue(options.get("seed").isTextual() && c.get("seed").isTextual());
        assertEquals(0.5, options.get("effort").asDouble());
        assertEquals("GET-0*", options.get("rules").asText());
        assertEquals(List.of(jar.toString()), List.of(options.get("backend_jars").get(0).asText()));
        assertEquals(RuleCatalogue.rules().size() - 7, c.get("rules_not_run").size());

        String html = Files.readString(report.resolve("index.html"));
        String first = firstBodyLine(html);
        assertTrue(first.contains("NOT CERTIFIED: partial run") && first.contains("--effort 0.5 is below 1"), first);
        String reproduce = "./dirtylog certify --backend-jar '" + jar + "' --backend subset-me --rules 'GET-0*' --effort 0.5"
                + " --seed -5";
        assertTrue(html.contains("<code>" + reproduce.replace("'", "&#39;") + "</code>"), html);

        Document xml = parseXml(report.resolve("junit.xml"));
        Element certified = testcase(xml, "certified: subset-me");
        assertEquals(1, certified.getElementsByTagName("failure").getLength(), "the certification test case fails");
        assertTrue(((Element) certified.getElementsByTagName("failure").item(0)).getAttribute("message")
                .contains("partial run"));
        assertEquals("1", xml.getDocumentElement().getAttribute("failures"));
    }

    @Test
    void hostileStringsFromABackendAreEscapedInEveryReport(@TempDir Path dir) throws Exception {
        String evil = "\\uD800 \\uFFFF \\u0001 </td><script>alert(1)</script> &amp; \\\"quoted\\\" ";
        BackendJar b = BackendJar.named("hostile-text")
                .method("description", "public String description() { return \"" + evil + "\" + \"d\".repeat(5000); }")
                .misbehaveIn("getDirtyLog", "throw new IllegalStateException(\"" + evil + "\" + \"m\".repeat(5000));");
        Path jar = b.build(dir);
        Path report = dir.resolve("report");
        Cli.Run r = Cli.certify(report, "--backend-jar", jar.toString(), "--backend", "hostile-text", "--seed", "3",
                "--rules", "GET-01,GET-05");
        assertEquals(1, r.exit(), r::toString);

        JsonNode c = Cli.json(report.resolve("certificate.json"));
        String description = c.get("description").asText();
        assertTrue(description.startsWith("\\uD800 \uFFFF \u0001 </td><script>"), description);
        assertTrue(description.endsWith("&amp; \"quoted\" " + "d".repeat(5000)), description);
        assertTrue(Cli.rule(c, "GET-05").get("message").asText().contains("\\uD800 \uFFFF"));

        Document xml = parseXml(report.resolve("junit.xml"));
        Element get05 = testcase(xml, "GET-05 ");
        String message = ((Element) get05.getElementsByTagName("error").item(0)).getAttribute("message");
        assertTrue(message.contains("\\uD800 \\uFFFF \\u0001 </td><script>alert(1)</script>"), message);

        String html = Files.readString(report.resolve("index.html"));
        assertFalse(html.contains("<script>"), "markup from the backend stays text");
        assertTrue(html.contains("&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;"), html);
        assertFalse(html.chars().anyMatch(ch -> ch == 0xFFFF || ch == 1 || Character.isSurrogate((char) ch)), "raw characters");
        assertTrue(r.out().contains("GET-05        ERROR"), r::toString);
        assertFalse(r.out().chars().anyMatch(ch -> ch == 1), "no control character reaches the console");
    }

    @Test
    void theReportFolderIsCheckedBeforeAnyBackendRuns(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        for (Path report : List.of(file, file.resolve("below"))) {
            Cli.Run r = Cli.certify(report, "--backend", "reference-x86", "--rules", "GET-01");
            assertEquals(2, r.exit(), r::toString);
            assertEquals("", r.out(), "nothing ran");
            assertEquals(1, r.err().lines().count(), r::toString);
            assertTrue(r.err().contains("is a file") || r.err().contains("part of that path is a file"), r::toString);
        }
        Path foreign = Files.createDirectories(dir.resolve("photos"));
        Files.writeString(foreign.resolve("holiday.jpg"), "jpeg");
        Cli.Run notEmpty = Cli.certify(foreign, "--backend", "reference-x86", "--rules", "GET-01");
        assertEquals(2, notEmpty.exit(), notEmpty::toString);
        assertTrue(notEmpty.err().contains("is not empty") && notEmpty.err().contains("--replace"), notEmpty::toString);
        Cli.Run replace = Cli.certify(foreign, "--replace", "--backend", "reference-x86", "--rules", "GET-01");
        assertEquals(2, replace.exit(), replace::toString);
        assertTrue(replace.err().contains("holds files that are not a DirtyLog report (e.g. holiday.jpg)"), replace::toString);
        assertEquals(List.of("holiday.jpg"), list(foreign), "nothing was touched");
    }

    @Test
    void replacingAnEarlierReportLeavesNothingOfIt(@TempDir Path dir) throws IOException {
        Path report = Files.createDirectories(dir.resolve("report"));
        // An earlier kit's report of two backends, both certified.
        for (String sub : List.of("", "old-a/", "old-b/")) {
            Files.createDirectories(report.resolve(sub.isEmpty() ? "." : sub));
            Files.writeString(report.resolve(sub + "certificate.json"), "{\"certified\": true}");
            Files.writeString(report.resolve(sub + "index.html"), "CERTIFIED");
        }
        Cli.Run refused = Cli.certify(report, "--backend", "reference-x86", "--rules", "GET-01");
        assertEquals(2, refused.exit(), refused::toString);
        assertTrue(Files.isDirectory(report.resolve("old-a")), "a refused run changes nothing");

        Cli.Run r = Cli.certify(report, "--replace", "--backend", "reference-x86", "--rules", "GET-01");
        assertEquals(1, r.exit(), r::toString);
        assertEquals(List.of(".dirtylog-report", ".dirtylog.lock", "certificate.json", "index.html", "junit.xml"),
                list(report));
        assertFalse(Cli.json(report.resolve("certificate.json")).get("certified").asBoolean());
        try (Stream<Path> all = Files.walk(report)) {
            assertTrue(all.noneMatch(p -> p.getFileName().toString().contains(".tmp-")), "no temporary file is left");
        }
    }

    @Test
    void withoutReportTheRunWritesUnderTheKitRootWhereverItRunsAndReplacesTheLastDefaultReport(@TempDir Path dir)
            throws IOException {
        Path root = Files.createDirectories(dir.resolve("kit"));
        for (String rules : List.of("GET-01", "GET-02")) {
            Cli.Run r = Cli.withProperties(Map.of("dirtylog.root", root.toString()),
                    () -> Cli.run("certify", "--backend", "reference-x86", "--rules", rules, "--seed", "1"));
            assertEquals(1, r.exit(), r::toString);
            Path report = root.resolve("dirtylog-report/certify");
            assertTrue(r.out().contains("report: " + report.resolve("index.html")), r::toString);
            JsonNode c = Cli.json(report.resolve("certificate.json"));
            assertEquals(rules, c.get("options").get("rules").asText());
        }
    }

    @Test
    void severalBackendsGetAFolderEachNamedAfterThemAndAnIndexThatSaysWhetherAllAreCertified(@TempDir Path dir)
            throws IOException {
        Path report = dir.resolve("report");
        Cli.Run r = Cli.certify(report, "--backend", "reference-x86", "--backend", "reference-ppc", "--rules", "GET-01",
                "--seed", "9");
        assertEquals(1, r.exit(), r::toString);
        assertEquals(List.of(".dirtylog-report", ".dirtylog.lock", "index.html", "reference-ppc", "reference-x86"),
                list(report));
        String index = Files.readString(report.resolve("index.html"));
        assertTrue(firstBodyLine(index).contains("NOT CERTIFIED: 2 of 2 backends not certified"), index);
        assertTrue(index.contains("./dirtylog certify --backend reference-x86 --backend reference-ppc --rules GET-01 --seed 9"),
                index);
        assertEquals("reference-ppc", Cli.json(report.resolve("reference-ppc/certificate.json")).get("backend").asText());
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static Document parseXml(Path file) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return f.newDocumentBuilder().parse(file.toFile());
    }

    private static Element testcase(Document xml, String namePrefix) {
        NodeList cases = xml.getElementsByTagName("testcase");
        for (int i = 0; i < cases.getLength(); i++) {
            Element e = (Element) cases.item(i);
            if (e.getAttribute("name").startsWith(namePrefix)) {
                return e;
            }
        }
        throw new AssertionError("no testcase named " + namePrefix);
    }
}
