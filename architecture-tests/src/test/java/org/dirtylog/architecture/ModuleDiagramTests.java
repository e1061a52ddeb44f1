package org.dirtylog.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The module diagram of {@code docs/architecture.md} is the reactor: one node per module of the
 * root and aggregator {@code pom.xml} files, a solid arrow per compile-scope dependency between
 * them and a dotted one per test-scope dependency (those of this module, which depends on every
 * other module, are left out of the picture and checked here instead).
 */
class ModuleDiagramTests {

    private static final String THIS_MODULE = "architecture-tests";
    private static final Pattern NODE = Pattern.compile("^\\s*(\\w+)\\[\"([^\"]+)\"]\\s*$");
    private static final Pattern EDGE = Pattern.compile("^\\s*(\\w+)\\s*(-->|-\\.->)\\s*(\\w+)\\s*$");

    private static Path root;
    /** Module path (relative to the root) by artifactId, leaf modules only. */
    private static final Map<String, String> MODULES = new HashMap<>();
    private static final Set<String> COMPILE = new TreeSet<>();
    private static final Set<String> TEST = new TreeSet<>();

    @BeforeAll
    static void readTheReactor() throws Exception {
        root = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().getParent();
        Map<String, List<String[]>> dependencies = new HashMap<>();
        collect("", dependencies);
        for (Map.Entry<String, List<String[]>> module : dependencies.entrySet()) {
            for (String[] dependency : module.getValue()) {
                String to = MODULES.get(dependency[0]);
                if (to != null) {
                    (dependency[1].equals("test") ? TEST : COMPILE).add(module.getKey() + " -> " + to);
                }
            }
        }
    }

    /** Reads the pom of module {@code path}: an aggregator's modules recursively, a leaf's kit dependencies. */
    private static void collect(String path, Map<String, List<String[]>> dependencies) throws Exception {
        Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(root.resolve(path).resolve("pom.xml").toFile());
        Element project = pom.getDocumentElement();
        if ("pom".equals(text(project, "packaging"))) {
            for (Element module : children(child(project, "modules"), "module")) {
                collect(path.isEmpty() ? module.getTextContent().trim() : path + "/" + module.getTextContent().trim(),
                        dependencies);
            }
            return;
        }
        MODULES.put(text(project, "artifactId"), path);
        List<String[]> kit = new ArrayList<>();
        for (Element dependency : children(child(project, "dependencies"), "dependency")) {
            if ("org.dirtylog".equals(text(dependency, "groupId"))) {
                String scope = text(dependency, "scope");
                kit.add(new String[] {text(dependency, "artifactId"), scope == null ? "compile" : scope});
            }
        }
        dependencies.put(path, kit);
    }

    private static Element child(Element parent, String name) {
        if (parent == null) {
            return null;
        }
        for (Element e : children(parent, name)) {
            return e;
        }
        return null;
    }

    private static List<Element> children(Element parent, String name) {
        List<Element> out = new ArrayList<>();
        if (parent == null) {
            return out;
        }
        NodeList nodes = parent.getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            Node n = nodes.item(i);
            if (n instanceof Element e && e.getTagName().equals(name)) {
                out.add(e);
            }
        }
        return out;
    }

    private static String text(Element parent, String name) {
        Element e = child(parent, name);
        return e == null ? null : e.getTextContent().trim();
    }

    /** The diagram: node labels by id, and its arrows as "from -> to" of module paths, solid and dotted. */
    private record Diagram(Map<String, String> nodes, Set<String> solid, Set<String> dotted) {
    }

    private static Diagram diagram() throws IOException {
        List<String> lines = Files.readAllLines(root.resolve("docs/architecture.md"));
        int start = lines.indexOf("```mermaid");
        assertTrue(start >= 0, "docs/architecture.md has no mermaid diagram");
        Map<String, String> nodes = new HashMap<>();
        List<String[]> edges = new ArrayList<>();
        for (String line : lines.subList(start + 1, lines.size())) {
            if (line.equals("```")) {
                break;
            }
            Matcher node = NODE.matcher(line);
            Matcher edge = EDGE.matcher(line);
            if (node.matches()) {
                nodes.put(node.group(1), node.group(2));
            } else if (edge.matches()) {
                edges.add(new String[] {edge.group(1), edge.group(2), edge.group(3)});
            }
        }
        Set<String> solid = new TreeSet<>();
        Set<String> dotted = new TreeSet<>();
        for (String[] e : edges) {
            assertTrue(nodes.containsKey(e[0]) && nodes.containsKey(e[2]), "an arrow between undeclared nodes: " + String.join(" ", e));
            (e[1].equals("-->") ? solid : dotted).add(nodes.get(e[0]) + " -> " + nodes.get(e[2]));
        }
        return new Diagram(nodes, solid, dotted);
    }

    @Test
    void theDiagramHasExactlyTheReactorsModules() throws IOException {
        assertEquals(new TreeSet<>(MODULES.values()), new TreeSet<>(diagram().nodes().values()));
    }

    @Test
    void everySolidArrowIsACompileDependencyAndEveryCompileDependencyIsDrawn() throws IOException {
        assertEquals(COMPILE, diagram().solid());
    }

    @Test
    void everyDottedArrowIsATestDependencyAndEveryTestDependencyIsDrawnButThisModules() throws IOException {
        Set<String> drawn = new TreeSet<>();
        for (String dependency : TEST) {
            if (!dependency.startsWith(THIS_MODULE + " -> ")) {
                drawn.add(dependency);
            }
        }
        assertEquals(drawn, diagram().dotted());
    }

    @Test
    void thisModuleDependsOnEveryOtherModuleInTestScopeSoItsRulesSeeAllOfThem() {
        Set<String> expected = new TreeSet<>();
        for (String module : MODULES.values()) {
            if (!module.equals(THIS_MODULE)) {
                expected.add(THIS_MODULE + " -> " + module);
            }
        }
        Set<String> actual = new TreeSet<>();
        for (String dependency : TEST) {
            if (dependency.startsWith(THIS_MODULE + " -> ")) {
                actual.add(dependency);
            }
        }
        assertEquals(expected, actual);
    }
}
