package org.dirtylog.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.dirtylog.spi.Capability;
import org.junit.jupiter.api.Test;

/** The catalogue and the checks agree both ways, and every TLA+ property the catalogue cites exists. */
class RuleCatalogueTests {

    private static final Pattern TLA_CITATION = Pattern.compile("TLA\\+ ([A-Za-z]+)");

    /** One row of the README's rule table: {@code | `ID` | LEVEL | statement | source |}. */
    private static final Pattern README_ROW = Pattern.compile("^\\| `([A-Z0-9-]+)` \\| (MUST|SHOULD) \\| (.*) \\| (.*) \\|$");

    @Test
    void theReadmeTableShowsEveryRuleFieldByField() throws IOException {
        List<String> rows = new ArrayList<>();
        for (String line : Files.readAllLines(projectRoot().resolve("README.md"))) {
            if (README_ROW.matcher(line).matches()) {
                rows.add(line);
            }
        }
        List<String> expected = RuleCatalogue.rules().stream()
                .map(r -> "| `" + r.id() + "` | " + r.level() + " | " + r.statement() + " | " + r.source() + " |")
                .toList();
        assertEquals(String.join("\n", expected), String.join("\n", rows),
                "README.md's rule table differs from the catalogue; the expected rows are on the left");
    }

    @Test
    void ruleIdsAreStableInShapeAndStatementsAreOneLine() {
        for (Rule r : RuleCatalogue.rules()) {
            assertTrue(r.id().matches("[A-Z]+(-[A-Z]+)*-\\d\\d"), r.id());
            assertFalse(r.statement().contains("\n"), r.id());
            assertFalse(r.source().isBlank(), r.id());
            assertTrue(r.source().matches(".*(RFC 4\\.(39|40)|api\\.rst (4\\.(8|35|117)|7\\.18|8\\.29)|semantics §|TLA\\+ ).*"),
                    r.id() + " cites no known source: " + r.source());
        }
    }

    @Test
    void theCatalogueCoversWhatTheIssueAsksFor() {
        List<String> ids = RuleCatalogue.ids();
        for (String prefix : List.of("CAP-", "USER-ADDR-", "SWITCH-", "GET-", "SLOT-", "SLOT-LOG-", "RACE-", "PREC-", "MODEL-", "MANUAL-",
                "CLEAR-", "RING-")) {
            assertTrue(ids.stream().anyMatch(id -> id.startsWith(prefix)), "no rule " + prefix + "*");
        }
        assertTrue(RuleCatalogue.rules().stream().anyMatch(r -> r.level() == Level.SHOULD), "precision is a SHOULD");
    }

    @Test
    void everyManualProtectRuleNeedsTheCapabilitySoEarlierBackendsGetNotApplicable() {
        for (Rule r : RuleCatalogue.rules()) {
            if (r.id().startsWith("MANUAL-") || r.id().startsWith("CLEAR-")) {
                assertTrue(r.requires().contains(Capability.MANUAL_DIRTY_LOG_PROTECT), r.id());
            }
        }
    }

    @Test
    void everyCitedTlaPropertyIsDefinedInTheSpecification() throws IOException {
        Path spec = projectRoot().resolve("spec/models");
        StringBuilder all = new StringBuilder();
        try (java.util.stream.Stream<Path> files = Files.walk(spec)) {
            for (Path tla : files.filter(f -> f.toString().endsWith(".tla")).toList()) {
                all.append(Files.readString(tla)).append('\n');
            }
        }
        String text = all.toString();
        Set<String> cited = new TreeSet<>();
        for (Rule r : RuleCatalogue.rules()) {
            Matcher m = TLA_CITATION.matcher(r.source());
            while (m.find()) {
                cited.add(m.group(1));
            }
        }
        assertFalse(cited.isEmpty());
        for (String property : cited) {
            // a rule cites a property (an operator) or, as MODEL-02 does, a whole module
            assertTrue(Pattern.compile("(?m)^" + property + "(\\([^)]*\\))?\\s*==").matcher(text).find()
                    || Pattern.compile("(?m)^-+ MODULE " + property + " -+").matcher(text).find(),
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
