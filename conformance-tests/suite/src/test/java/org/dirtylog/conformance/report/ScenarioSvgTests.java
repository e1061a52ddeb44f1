package org.dirtylog.conformance.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.xml.parsers.DocumentBuilderFactory;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.Environment;
import org.dirtylog.conformance.Rule;
import org.dirtylog.conformance.RuleCatalogue;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.RunOptions;
import org.dirtylog.conformance.Step;
import org.dirtylog.conformance.Verdict;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

class ScenarioSvgTests {

    private static final String SVG = "http://www.w3.org/2000/svg";

    /** The shape of a lost write after a memslot move: written, moved, harvested without it. */
    private static final List<Step> MOVE = List.of(
            new Step("vm", "mmap(65536 bytes)", "mem1 = 0x7f0000000000"),
            new Step("vm", "KVM_SET_USER_MEMORY_REGION(slot=0, flags=LOG_DIRTY_PAGES, gpa=0x100000, size=16 pages,"
                    + " uaddr=mem1)", "0"),
            new Step("vm", "KVM_CREATE_VCPU(1)", "0"),
            new Step("vm", "KVM_CREATE_VCPU(0)", "0"),
            new Step("vcpu1", "run 2 write(s): pages [3, 7] of slot 0", "2"),
            new Step("vcpu0", "run 1 write(s): pages [9] of slot 0", "1"),
            new Step("vm", "KVM_SET_USER_MEMORY_REGION(slot=0, flags=LOG_DIRTY_PAGES, gpa=0x200000, size=16 pages,"
                    + " uaddr=mem1)", "0"),
            new Step("vm", "KVM_GET_DIRTY_LOG(slot=0, dirty_bitmap=mem2)", "0"),
            new Step("suite", "read dirty_bitmap of slot 0", "pages [3, 9]"));

    static Document parse(String svg) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return f.newDocumentBuilder().parse(new InputSource(new StringReader(svg)));
    }

    static List<Element> groups(Document d, String cls) {
        List<Element> out = new ArrayList<>();
        NodeList all = d.getElementsByTagNameNS(SVG, "g");
        for (int i = 0; i < all.getLength(); i++) {
            Element e = (Element) all.item(i);
            if (List.of(e.getAttribute("class").split(" ")).contains(cls)) {
                out.add(e);
            }
        }
        return out;
    }

    private static RuleResult fail(String message, String expected, String actual, List<Step> steps) {
        Rule rule = RuleCatalogue.byId("SLOT-LOG-04").orElseThrow();
        return new RuleResult(rule, Verdict.FAIL, message, expected, actual, steps, 0);
    }

    @Test
    void eachVcpuTheHarvesterTheMemslotUpdaterTheVmAndTheSuiteGetALaneInThatOrder() throws Exception {
        Document d = parse(ScenarioSvg.render(fail("m", "pages [3, 7, 9]", "pages [3, 9]", MOVE)));
        List<String> lanes = groups(d, "lane").stream().map(e -> e.getAttribute("data-lane")).toList();
        assertEquals(List.of("vcpu0", "vcpu1", ScenarioSvg.HARVESTER, ScenarioSvg.UPDATER, "vm", ScenarioSvg.SUITE), lanes);
        List<String> stepLanes = groups(d, "step").stream().map(e -> e.getAttribute("data-lane")).toList();
        assertEquals(List.of("vm", ScenarioSvg.UPDATER, "vm", "vm", "vcpu1", "vcpu0", ScenarioSvg.UPDATER,
                ScenarioSvg.HARVESTER, ScenarioSvg.SUITE), stepLanes);
    }

    @Test
    void thePageExpectedButMissingIsNamedAndTheStepsThatMentionItAreMarked() throws Exception {
        Document d = parse(ScenarioSvg.render(fail("page 7 of slot 0 lost", "pages [3, 7, 9]", "pages [3, 9]", MOVE)));
        assertEquals("7", groups(d, "pages").get(0).getAttribute("data-pages"));
        List<String> marked = groups(d, "touches-page").stream().map(e -> e.getAttribute("data-step")).toList();
        assertEquals(List.of("5"), marked, "only vcpu1's write names page 7");
    }

    @Test
    void pagesNamedOneByOneInTheFailAreMarkedWhereAStepListsThemOrCoversThemWithARange() {
        assertEquals(List.of(252L, 508L), ScenarioSvg.namedPages("ring wrapped",
                "an entry for page 252 at ring index 252", "{DIRTY, slot 0, offset 508} (the store to page 508)"));
        assertTrue(ScenarioSvg.mentions("run 264 write(s): pages 252..515 of slot 0", 252));
        assertFalse(ScenarioSvg.mentions("run 264 write(s): pages 252..515 of slot 0", 516));
        assertTrue(ScenarioSvg.mentions("pages [1, 252]", 252));
        assertFalse(ScenarioSvg.mentions("page 2520", 252));
        assertEquals(List.of(), ScenarioSvg.namedPages("no page named", "0", "-EFAULT"));
    }

    @Test
    void hostileBackendStringsStayTextInWellFormedXml() throws Exception {
        String hostile = "\"'><script>alert(1)</script>&amp;\u0000\u0007\u0085\ud800\uffff</svg>";
        List<Step> steps = List.of(new Step(hostile, hostile, hostile), new Step("vcpu0", hostile, hostile),
                new Step("vm", "KVM_GET_DIRTY_LOG" + hostile, "pages [99999999999999999999999, 1]"));
        String svg = ScenarioSvg.render(fail(hostile, "pages [1, " + hostile, hostile + " page 1", steps));
        Document d = parse(svg);
        assertEquals(0, d.getElementsByTagNameNS("*", "script").getLength());
        assertFalse(svg.contains("<script"));
        assertEquals(hostile.replace("\u0000", "\\u0000").replace("\u0007", "\\u0007").replace("\u0085", "\\u0085")
                .replace("\ud800", "\\uD800")
                .replace("\uffff", "\\uFFFF"), groups(d, "lane").get(2).getAttribute("data-lane"));
    }

    @Test
    void theCertificatePageEmbedsOnePictureForEachFailAndNoneForOtherVerdicts() {
        List<RuleResult> results = new ArrayList<>();
        for (Rule r : RuleCatalogue.rules()) {
            Verdict v = r.id().equals("SLOT-LOG-04") || r.id().equals("SWITCH-03") ? Verdict.FAIL
                    : r.id().equals("GET-03") ? Verdict.ERROR : Verdict.PASS;
            results.add(new RuleResult(r, v, "m", "pages [7]", "pages []", MOVE, 0));
        }
        Certificate c = new Certificate("b", "d", Optional.empty(), "v", RunOptions.withSeed(1), List.of(), Instant.EPOCH,
                1, results, Optional.empty(), new Environment("jdk", "os", "kernel", 2));
        String page = HtmlReport.render(c);
        assertEquals(2, page.split("<svg ", -1).length - 1);
        assertFalse(page.contains("<script"), "the picture needs no script");
        assertFalse(page.contains("href=\"http"), "nor any resource from elsewhere");
    }
}
