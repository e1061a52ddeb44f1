package org.dirtylog.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The counterexample pictures: {@code check} draws x86-rfc's real TLC trace as
 * {@code x86-rfc.trace.svg} next to the text trace, and the picture is well-formed XML with the
 * lanes, the steps in TLC's order, each in the lane of whoever took it, and the lost page.
 * A dirty-ring and an SRCU counterexample get their lanes the same way. The check's report
 * folder stays under {@code target/pictures/check} for the browser test.
 */
class TraceSvgTests {

    /** Where {@code check --model x86-rfc} writes; {@link TraceSvgBrowserTests} screenshots its picture. */
    static final Path CHECK_REPORT = Path.of("target", "pictures", "check").toAbsolutePath();

    private static boolean checked;
    private static Document x86Rfc;
    private static String x86RfcText;

    @BeforeAll
    static void checkX86Rfc() throws Exception {
        Path svg = x86RfcPicture();
        x86RfcText = Files.readString(svg.resolveSibling("x86-rfc.trace.txt"));
        x86Rfc = parse(Files.readString(svg));
    }

    /**
     * Returns {@code x86-rfc.trace.svg} as {@code check --model x86-rfc --model ring-no-kick
     * --model srcu-one-flip} wrote it into {@link #CHECK_REPORT}, running the check once per test JVM.
     */
    static synchronized Path x86RfcPicture() throws IOException {
        Path svg = CHECK_REPORT.resolve("x86-rfc.trace.svg");
        if (checked) {
            return svg;
        }
        TlcRunner.deleteTree(CHECK_REPORT);
        Path kitRoot = CheckCommand.kitRoot(ModelManifest.findModelsDir(Path.of("")).orElseThrow());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = CheckCommand.run(List.of("--model", "x86-rfc", "--model", "ring-no-kick", "--model", "srcu-one-flip",
                        "--report", CHECK_REPORT.toString()),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(out, true, StandardCharsets.UTF_8),
                kitRoot);
        // ring-no-kick's manifest entry does not explain every action its search stops before
        // taking, which makes check exit 1; the pictures need only each model's verdict.
        assertTrue(status == CheckCommand.OK || status == CheckCommand.MISMATCH, out.toString(StandardCharsets.UTF_8));
        for (JsonNode model : new ObjectMapper().readTree(CHECK_REPORT.resolve(CheckCommand.MODELS_JSON).toFile())
                .get("models")) {
            assertEquals(model.get("expected").asText(), model.get("actual").asText(), model.toString());
        }
        checked = true;
        return svg;
    }

    /** Returns {@code svg} parsed as XML; a document that is not well-formed fails the test. */
    static Document parse(String svg) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return f.newDocumentBuilder().parse(new InputSource(new StringReader(svg)));
    }

    private static List<Element> elements(Document d, String tag, String cls) {
        List<Element> out = new ArrayList<>();
        NodeList all = d.getElementsByTagNameNS("http://www.w3.org/2000/svg", tag);
        for (int i = 0; i < all.getLength(); i++) {
            Element e = (Element) all.item(i);
            if (List.of(e.getAttribute("class").split(" ")).contains(cls)) {
                out.add(e);
            }
        }
        return out;
    }

    private static Element step(Document d, int number) {
        return elements(d, "g", "step").stream().filter(e -> e.getAttribute("data-step").equals(number + ""))
                .findFirst().orElseThrow(() -> new AssertionError("no step " + number));
    }

    private static Map<String, String> vars(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void checkNamesThePictureInModelsJsonNextToTheTextTrace() throws IOException {
        JsonNode model = new ObjectMapper().readTree(CHECK_REPORT.resolve(CheckCommand.MODELS_JSON).toFile())
                .get("models").get(0);
        assertEquals("x86-rfc", model.get("model").asText());
        assertEquals("x86-rfc.trace.txt", model.get("trace").asText());
        assertEquals("x86-rfc.trace.svg", model.get("trace_svg").asText());
        assertEquals("svg", x86Rfc.getDocumentElement().getLocalName());
    }

    @Test
    void theX86RfcPictureHasOneLanePerVcpuTheHarvesterAndTheMemslotUpdater() {
        List<String> lanes = elements(x86Rfc, "g", "lane").stream().map(e -> e.getAttribute("data-lane")).toList();
        assertEquals(List.of("vCPU v1", TraceSvg.HARVESTER, TraceSvg.UPDATER), lanes);
    }

    @Test
    void everyStepOfTheTextTraceIsOneRowWithItsActionInTlcsOrder() {
        List<String> textActions = new ArrayList<>();
        x86RfcText.lines().filter(l -> l.matches(" {0,3}[0-9]+  .*"))
                .forEach(l -> textActions.add(l.trim().split("  +")[1]));
        List<String> drawn = elements(x86Rfc, "g", "step").stream().map(e -> e.getAttribute("data-action")).toList();
        assertEquals(19, drawn.size());
        assertEquals(textActions, drawn);
    }

    @Test
    void vcpuStepsAreInTheVcpuLaneAndTheSwitchStepsInTheHarvesterLane() {
        for (Element e : elements(x86Rfc, "g", "step")) {
            String action = e.getAttribute("data-action");
            String lane = e.getAttribute("data-lane");
            if (action.startsWith("Vcpu")) {
                assertEquals("vCPU v1", lane, action);
            } else if (!action.equals("Initial predicate")) {
                assertEquals(TraceSvg.HARVESTER, lane, action + " runs inside KVM_SWITCH_DIRTY_LOG");
            }
        }
        assertEquals("vCPU v1 harvester memslot updater", step(x86Rfc, 1).getAttribute("data-lane"),
                "the initial state spans every lane");
    }

    @Test
    void theLostPageIsNamedAndTheStoreWhoseWriteWasLostIsOutlined() {
        List<Element> lost = elements(x86Rfc, "g", "lost");
        assertEquals(1, lost.size());
        assertEquals("p1", lost.get(0).getAttribute("data-pages"));
        List<Element> stores = elements(x86Rfc, "g", "lost-store");
        assertEquals(1, stores.size(), "exactly one store's write is lost");
        assertEquals("17", stores.get(0).getAttribute("data-step"), "the store after the first harvest's end");
        assertEquals("VcpuStore", stores.get(0).getAttribute("data-action"));
        assertTrue(step(x86Rfc, 18).getAttribute("class").contains("touches-lost"),
                "the second SWITCH begins owing p1 (must = {p1})");
        assertFalse(step(x86Rfc, 6).getAttribute("class").contains("touches-lost"),
                "WriteProtect changes mapped[v1] to {}: it names no page");
    }

    @Test
    void changedVariablesAreHighlightedOnEveryStepThatChangedSomething() {
        for (Element e : elements(x86Rfc, "g", "step")) {
            NodeList rects = e.getElementsByTagNameNS("http://www.w3.org/2000/svg", "rect");
            long highlighted = 0;
            for (int i = 0; i < rects.getLength(); i++) {
                highlighted += ((Element) rects.item(i)).getAttribute("class").equals("changed") ? 1 : 0;
            }
            assertEquals(1, highlighted, "step " + e.getAttribute("data-step"));
        }
    }

    @Test
    void theDirtyRingsLostWriteHasTheVcpuAndCollectorLanesAndItsStoreOutlined() throws Exception {
        Document d = parse(Files.readString(x86RfcPicture().resolveSibling("ring-no-kick.trace.svg")));
        assertEquals(List.of("vCPU v1", TraceSvg.HARVESTER, TraceSvg.UPDATER),
                elements(d, "g", "lane").stream().map(e -> e.getAttribute("data-lane")).toList());
        for (Element e : elements(d, "g", "step")) {
            String action = e.getAttribute("data-action");
            if (!action.equals("Initial predicate")) {
                assertEquals(action.startsWith("Vcpu") ? "vCPU v1" : TraceSvg.HARVESTER, e.getAttribute("data-lane"), action);
            }
        }
        assertEquals("p1", elements(d, "g", "lost").get(0).getAttribute("data-pages"));
        List<Element> stores = elements(d, "g", "lost-store");
        assertEquals(1, stores.size());
        assertTrue(stores.get(0).getAttribute("data-action").startsWith("Vcpu"), stores.get(0).getAttribute("data-action"));
    }

    @Test
    void srcuReadersGetALaneEachAndSynchronizeIsTheUpdaters() throws Exception {
        Document d = parse(Files.readString(x86RfcPicture().resolveSibling("srcu-one-flip.trace.svg")));
        assertEquals(List.of("reader 1", "reader 2", TraceSvg.HARVESTER, TraceSvg.UPDATER),
                elements(d, "g", "lane").stream().map(e -> e.getAttribute("data-lane")).toList());
        for (Element e : elements(d, "g", "step")) {
            String action = e.getAttribute("data-action");
            String lane = e.getAttribute("data-lane");
            if (action.startsWith("Sync")) {
                assertEquals(TraceSvg.UPDATER, lane, action);
            } else if (action.startsWith("Read")) {
                assertTrue(lane.matches("reader [12]"), action + " in " + lane);
            }
        }
        assertEquals(List.of(), elements(d, "g", "lost"), "a grace-period violation loses no page");
    }

    @Test
    void anX86FaultThatMapsThePageForEveryVcpuIsDrawnAcrossTheVcpusItMayBe() throws Exception {
        List<TraceStep> trace = List.of(
                new TraceStep(1, "Initial predicate", vars("pc", "(v1 :> \"access\" @@ v2 :> \"access\")",
                        "mapped", "(v1 :> {} @@ v2 :> {})", "op", "\"none\"")),
                new TraceStep(2, "VcpuWriteFault", vars("pc", "(v1 :> \"access\" @@ v2 :> \"access\")",
                        "mapped", "(v1 :> {p1} @@ v2 :> {p1})", "op", "\"none\"")),
                new TraceStep(3, "VcpuStore", vars("pc", "(v1 :> \"access\" @@ v2 :> \"exit\")",
                        "mapped", "(v1 :> {p1} @@ v2 :> {p1})", "op", "\"none\"")));
        Document d = parse(TraceSvg.render("t", "violates:NoUseAfterFree", trace));
        assertEquals("vCPU v1 vCPU v2", step(d, 2).getAttribute("data-lane"),
                "mapped changed for both vCPUs: the trace does not say which one faulted");
        assertEquals("vCPU v2", step(d, 3).getAttribute("data-lane"));
        assertEquals(List.of(), elements(d, "g", "lost"), "only a NoLostWrite violation names lost pages");
    }

    @Test
    void controlStepsOfLogOnAndLogOffAreTheUpdatersAndThoseOfAHarvestTheHarvesters() throws Exception {
        List<TraceStep> trace = List.of(
                new TraceStep(1, "Initial predicate", vars("pc", "(v1 :> \"idle\")", "op", "\"none\"", "step", "0")),
                new TraceStep(2, "LogOff", vars("pc", "(v1 :> \"idle\")", "op", "\"logoff\"", "step", "1")),
                new TraceStep(3, "PublishMemslots", vars("pc", "(v1 :> \"idle\")", "op", "\"logoff\"", "step", "2")),
                new TraceStep(4, "RegionUpdateEnd", vars("pc", "(v1 :> \"idle\")", "op", "\"none\"", "step", "0")),
                new TraceStep(5, "HarvestBegin", vars("pc", "(v1 :> \"idle\")", "op", "\"get\"", "step", "1")),
                new TraceStep(6, "PublishMemslots", vars("pc", "(v1 :> \"idle\")", "op", "\"get\"", "step", "2")),
                new TraceStep(7, "Stuttering", Map.of()));
        Document d = parse(TraceSvg.render("t", "violates:RegionUpdateCompletes", trace));
        assertEquals(TraceSvg.UPDATER, step(d, 2).getAttribute("data-lane"));
        assertEquals(TraceSvg.UPDATER, step(d, 3).getAttribute("data-lane"), "a publish inside LogOff");
        assertEquals(TraceSvg.UPDATER, step(d, 4).getAttribute("data-lane"), "the step that ends LogOff");
        assertEquals(TraceSvg.HARVESTER, step(d, 5).getAttribute("data-lane"));
        assertEquals(TraceSvg.HARVESTER, step(d, 6).getAttribute("data-lane"), "a publish inside GET");
        assertEquals("vCPU v1 harvester memslot updater", step(d, 7).getAttribute("data-lane"),
                "a stutter is nobody's step");
    }

    @Test
    void hostileActionNamesAndValuesStayTextInWellFormedXml() throws Exception {
        String hostile = "\"</text><script>alert(1)</script>&\u0001\ud800'";
        List<TraceStep> trace = List.of(
                new TraceStep(1, "Initial predicate", vars("pc", "(v1 :> \"idle\")", "x", "0")),
                new TraceStep(2, "Vcpu" + hostile, vars("pc", "(v1 :> " + hostile + ")", "x", hostile)));
        String svg = TraceSvg.render(hostile, "violates:" + hostile, trace);
        Document d = parse(svg);
        assertEquals(0, d.getElementsByTagNameNS("*", "script").getLength());
        assertEquals("Vcpu\"</text><script>alert(1)</script>&\\u0001\\uD800'", step(d, 2).getAttribute("data-action"));
        assertFalse(svg.contains("<script"));
    }
}
