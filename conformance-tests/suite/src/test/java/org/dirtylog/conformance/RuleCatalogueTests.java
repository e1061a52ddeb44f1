package org.dirtylog.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The catalogue and the checks agree both ways, and every TLA+ property the catalogue cites exists. */
class RuleCatalogueTests {

    private static final Pattern TLA_CITATION = Pattern.compile("TLA\\+ ([A-Za-z]+)");

    /** Returns every {@link Checks} method of every class compiled into the suite's package tree. */
    private static List<Method> allCheckMethods() throws IOException, URISyntaxException, ClassNotFoundException {
        Path root = Path.of(Checks.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<Method> methods = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                String name = root.relativize(f).toString().replace('/', '.').replaceAll("\\.class$", "");
                for (Method m : Class.forName(name, false, Checks.class.getClassLoader()).getDeclaredMethods()) {
                    if (m.isAnnotationPresent(Checks.class)) {
                        methods.add(m);
                    }
                }
            }
        }
        return methods;
    }

    @Test
    void everyRuleHasExactlyOneCheckAndEveryCheckNamesACatalogueRule() throws Exception {
        List<Method> methods = allCheckMethods();
        Set<String> checked = new HashSet<>();
        for (Method m : methods) {
            String id = m.getAnnotation(Checks.class).value();
            assertTrue(RuleCatalogue.byId(id).isPresent(), m + " checks rule " + id + ", which the catalogue does not have");
            assertTrue(checked.add(id), "rule " + id + " has two checks");
            assertTrue(RuleCatalogue.CHECK_CLASSES.contains(m.getDeclaringClass()),
                    m + " is in a class the runner does not search (RuleCatalogue.CHECK_CLASSES)");
        }
        Set<String> unchecked = new TreeSet<>(RuleCatalogue.ids());
        unchecked.removeAll(checked);
        assertEquals(Set.of(), unchecked, "rules without a check");
        assertEquals(RuleCatalogue.ids().size(), ConformanceRunner.discoverChecks().size());
    }

    @Test
    void ruleIdsAreStableInShapeAndStatementsAreOneLine() {
        for (Rule r : RuleCatalogue.rules()) {
            assertTrue(r.id().matches("[A-Z]+(-[A-Z]+)*-\\d\\d"), r.id());
            assertFalse(r.statement().contains("\n"), r.id());
            assertFalse(r.source().isBlank(), r.id());
            assertTrue(r.source().matches(".*(RFC 4\\.(39|40)|api\\.rst 4\\.(8|35)|semantics §|TLA\\+ ).*"),
                    r.id() + " cites no known source: " + r.source());
        }
    }

    @Test
    void theCatalogueCoversWhatTheIssueAsksFor() {
        List<String> ids = RuleCatalogue.ids();
        for (String prefix : List.of("CAP-", "USER-ADDR-", "SWITCH-", "GET-", "SLOT-", "SLOT-LOG-", "RACE-", "PREC-", "MODEL-")) {
            assertTrue(ids.stream().anyMatch(id -> id.startsWith(prefix)), "no rule " + prefix + "*");
        }
        assertTrue(RuleCatalogue.rules().stream().anyMatch(r -> r.level() == Level.SHOULD), "precision is a SHOULD");
    }

    @Test
    void everyCitedTlaPropertyIsDefinedInTheSpecification() throws IOException {
        Path spec = projectRoot().resolve("spec/models/dirtylog/DirtyLog.tla");
        String text = Files.readString(spec);
        Set<String> cited = new TreeSet<>();
        for (Rule r : RuleCatalogue.rules()) {
            Matcher m = TLA_CITATION.matcher(r.source());
            while (m.find()) {
                cited.add(m.group(1));
            }
        }
        assertFalse(cited.isEmpty());
        for (String property : cited) {
            assertTrue(Pattern.compile("(?m)^" + property + "\\s*==").matcher(text).find(),
                    property + " is cited by the catalogue but not defined in " + spec);
        }
    }

    private static Path projectRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("spec/models"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new AssertionError("no spec/models above " + Path.of("").toAbsolutePath());
        }
        return p;
    }
}
