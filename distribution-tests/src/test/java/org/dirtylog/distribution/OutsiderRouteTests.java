package org.dirtylog.distribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * A third party's route, as {@code docs/writing-a-backend.md} section 5 tells it: a copy of
 * {@code conformance-tests/example-backend} in a folder outside the kit, built with the page's
 * own snippets and nothing else (the kit's artifacts installed by the page's command into a
 * Maven repository of this test's own, the pom, test class and properties file as printed), must
 * certify: every rule a test case named {@code ID statement}, the RFC rules skipped as not
 * applicable, none failed.
 */
class OutsiderRouteTests {

    private static final String MARKER = "outsider-route";
    private static final String EXAMPLE = "conformance-tests/example-backend";
    // The 14 rules that need KVM_CAP_USER_DIRTY_LOG, which example-minimal does not declare.
    private static final Set<String> RFC_RULES = Set.of("USER-ADDR-01", "USER-ADDR-02", "USER-ADDR-03",
            "USER-ADDR-04", "USER-ADDR-05", "SWITCH-01", "SWITCH-02", "SWITCH-03", "SWITCH-04", "SWITCH-05",
            "SWITCH-06", "SWITCH-07", "SLOT-LOG-06", "RACE-01");
    /** The rules example-minimal lacks a capability for: the RFC's, manual protect's and the ring's. */
    private static final Set<String> NOT_APPLICABLE = notApplicable();
    /** The catalogue's size, as the README's rule table lists it (this module sees the kit as a user does). */
    private static final int RULES = 65;

    private static Set<String> notApplicable() {
        Set<String> ids = new java.util.TreeSet<>(RFC_RULES);
        for (int i = 1; i <= 4; i++) {
            ids.add(String.format("MANUAL-%02d", i));
        }
        for (int i = 1; i <= 10; i++) {
            ids.add(String.format("CLEAR-%02d", i));
        }
        for (int i = 1; i <= 13; i++) {
            ids.add(String.format("RING-%02d", i));
        }
        return Set.copyOf(ids);
    }
    // A rule id followed by its statement; Surefire may put the test factory's own name in front.
    private static final Pattern RULE_CASE = Pattern.compile("^(?:.*?\\s)?([A-Z]+(?:-[A-Z]+)*-\\d\\d) \\S.*");
    private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);
    private static final Pattern CLASS = Pattern.compile("^(?:public )?class (\\w+)", Pattern.MULTILINE);

    @Test
    void theBackendGuidesSnippetsBuildAndCertifyTheExampleOutsideTheKit(@TempDir Path tmp) throws Exception {
        assumeTrue(Kit.onPath("bash"), "bash runs the page's shell snippets and is not installed");
        Path checkout = Kit.checkoutRoot();
        Map<String, String> snippets = Snippets.of(checkout.resolve("docs/writing-a-backend.md"), MARKER);
        assertEquals(List.of("install-kit", "pom.xml", "test-class", "junit-platform.properties", "build"),
                List.copyOf(snippets.keySet()), "the page's marked snippets");

        Path kit = Kit.copySources(checkout, tmp.resolve("dirtylog-kit"));
        try (Kit.Repository repository = Kit.Repository.create(tmp)) {
            followTheGuide(snippets, checkout, tmp, repository, Kit.environment(repository, kit, tmp));
        }
    }

    private static void followTheGuide(Map<String, String> snippets, Path checkout, Path tmp,
                                       Kit.Repository repository, Map<String, String> env) throws Exception {

        Kit.Result install = Kit.run(tmp, env, "bash", "-euc", snippets.get("install-kit"));
        assertEquals(0, install.status(), "the page's install step failed:\n" + install.tail());
        for (String artifact : List.of("dirtylog-kit", "dirtylog-backend-spi", "dirtylog-conformance-suite")) {
            assertTrue(Files.isDirectory(repository.head().resolve(Kit.GROUP_PATH).resolve(artifact)),
                    "the install step did not install " + artifact + ": " + repository.kitArtifacts());
        }

        Path project = Files.createDirectories(tmp.resolve("my-backend"));
        copyTree(checkout.resolve(EXAMPLE).resolve("src/main"), project.resolve("src/main"));
        Files.writeString(project.resolve("pom.xml"), snippets.get("pom.xml"));
        String testClass = snippets.get("test-class");
        Path testSources = project.resolve("src/test/java")
                .resolve(group(PACKAGE, testClass).replace('.', '/'));
        Files.createDirectories(testSources);
        Files.writeString(testSources.resolve(group(CLASS, testClass) + ".java"), testClass);
        Path testResources = Files.createDirectories(project.resolve("src/test/resources"));
        Files.writeString(testResources.resolve("junit-platform.properties"), snippets.get("junit-platform.properties"));

        Kit.Result build = Kit.run(project, env, "bash", "-euc", snippets.get("build"));
        assertEquals(0, build.status(), "the page's build step failed:\n" + build.tail());
        assertTrue(build.out().contains("BUILD SUCCESS"), build.tail());

        List<Element> cases = testCases(project.resolve("target/surefire-reports"));
        Set<String> rules = new TreeSet<>();
        Set<String> skipped = new TreeSet<>();
        List<String> failed = new ArrayList<>();
        for (Element c : cases) {
            String name = c.getAttribute("name");
            Matcher rule = RULE_CASE.matcher(name);
            if (rule.matches()) {
                rules.add(rule.group(1));
            }
            if (c.getElementsByTagName("skipped").getLength() > 0) {
                skipped.add(rule.matches() ? rule.group(1) : name);
                assertTrue(text(c, "skipped").matches("(?s).*(user-dirty-log|manual-dirty-log-protect|dirty-log-ring).*"),
                        name + ": " + text(c, "skipped"));
            }
            if (c.getElementsByTagName("failure").getLength() + c.getElementsByTagName("error").getLength() > 0) {
                failed.add(name);
            }
        }
        assertEquals(List.of(), failed, "test cases that failed");
        assertEquals(RULES, rules.size(), "test cases named 'ID statement': " + names(cases));
        assertEquals(NOT_APPLICABLE, skipped, "the rules skipped as not applicable");
    }

    private static String group(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        if (!m.find()) {
            throw new AssertionError("the test-class snippet has no " + pattern + ":\n" + text);
        }
        return m.group(1);
    }

    private static List<Element> testCases(Path reports) throws Exception {
        List<Element> cases = new ArrayList<>();
        try (Stream<Path> files = Files.list(reports)) {
            for (Path xml : files.filter(p -> p.getFileName().toString().matches("TEST-.*\\.xml")).toList()) {
                NodeList nodes = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(xml.toFile())
                        .getElementsByTagName("testcase");
                for (int i = 0; i < nodes.getLength(); i++) {
                    cases.add((Element) nodes.item(i));
                }
            }
        }
        return cases;
    }

    private static String text(Element testCase, String child) {
        Element e = (Element) testCase.getElementsByTagName(child).item(0);
        return e.getAttribute("message") + " " + e.getTextContent();
    }

    private static List<String> names(List<Element> cases) {
        return cases.stream().map(c -> c.getAttribute("name")).toList();
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : files.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }
}
