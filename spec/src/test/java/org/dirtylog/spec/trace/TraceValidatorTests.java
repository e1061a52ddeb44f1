package org.dirtylog.spec.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.dirtylog.spec.ModelManifest;
import org.dirtylog.spec.TlcRunner;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trace validation against the contract: traces recorded by {@code certify --trace} on
 * reference-x86 (test resources, unedited) conform; the same traces altered by hand are
 * rejected at the altered event with the guard it breaks and the contract's state there.
 */
class TraceValidatorTests {

    private static Path modelsDir;

    @TempDir
    static Path work;

    @BeforeAll
    static void findModels() {
        modelsDir = ModelManifest.findModelsDir(Path.of("")).orElseThrow();
    }

    private static List<String> recorded(String name) throws IOException {
        try (InputStream in = TraceValidatorTests.class.getResourceAsStream("/traces/" + name + ".ndjson")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
    }

    private static Map<String, TraceValidator.Verdict> check(Map<String, List<String>> traces) throws Exception {
        return new TraceValidator(modelsDir, new TlcRunner(work)).check(traces);
    }

    /** Returns {@code lines} with {@code from} replaced by {@code to} in the event of {@code seq}. */
    private static List<String> altered(List<String> lines, long seq, String from, String to) {
        List<String> out = new ArrayList<>();
        boolean done = false;
        for (String l : lines) {
            if (l.startsWith("{\"seq\":" + seq + ",")) {
                assertTrue(l.contains(from), l);
                out.add(l.replace(from, to));
                done = true;
            } else {
                out.add(l);
            }
        }
        assertTrue(done, "no event " + seq);
        return out;
    }

    @Test
    void recordedTracesOfACorrectReferenceRunConformEveryBehaviourInOneTlcRun() throws Exception {
        Map<String, List<String>> traces = new LinkedHashMap<>();
        for (String rule : List.of("GET-02", "SWITCH-02", "SLOT-LOG-03", "MODEL-01-first-six")) {
            traces.put(rule, recorded(rule));
        }
        Map<String, TraceValidator.Verdict> v = check(traces);
        for (String rule : traces.keySet()) {
            assertEquals("conforms", v.get(rule).outcome(), rule + ": " + v.get(rule));
            assertEquals(v.get(rule).behaviours(), v.get(rule).checked(), rule + ": " + v.get(rule));
        }
        assertEquals(6, v.get("MODEL-01-first-six").checked());
        assertEquals("trace conforms: 6 of 6 behaviours checked", v.get("MODEL-01-first-six").message());
    }

    @Test
    void aGetThatLeavesOutAWrittenPageIsRejectedAtThatEventForNoLostWriteWithTheStateThere() throws Exception {
        // seq 3 wrote page 9 (gpa 36864); seq 8 is the GET after the second write of it.
        List<String> lines = altered(recorded("GET-02"), 8, "\"pages\":[9]", "\"pages\":[]");
        TraceValidator.Verdict v = check(Map.of("GET-02", lines)).get("GET-02");
        assertEquals("rejected", v.outcome(), v.toString());
        assertEquals(Optional.of(8L), v.step());
        assertEquals("event seq 8 (KVM_GET_DIRTY_LOG) is no step of the contract: HarvestReturn({}) is not enabled in any "
                + "state the events before it lead to; NoLostWrite: page 9 owed when the harvest was invoked is not reported",
                v.message());
        String state = v.state().orElseThrow();
        assertTrue(state.contains("must |-> {9}") && state.contains("op |-> \"get\"") && state.contains("owed |-> (0 :> {9})"),
                state);
    }

    @Test
    void aColdBitmapReportingAPageNobodyWroteIsRejectedForPrecision() throws Exception {
        List<String> lines = altered(recorded("SWITCH-02"), 7, "\"pages\":[0,1,63,64,66]", "\"pages\":[0,1,2,63,64,66]");
        TraceValidator.Verdict v = check(Map.of("SWITCH-02", lines)).get("SWITCH-02");
        assertEquals("rejected", v.outcome(), v.toString());
        assertEquals(Optional.of(7L), v.step());
        assertTrue(v.message().startsWith("event seq 7 (read_bitmap) is no step of the contract: HarvestReturn({0, 1, 2, 63, 64, 66})"),
                v.message());
        assertTrue(v.message().endsWith("; Precision: page 2 reported but neither owed nor written since the slot's previous harvest"),
                v.message());
    }

    /**
     * Manual protect as recorded on reference-x86: GETs that clear nothing, CLEARs of pages the
     * GET did not report (CLEAR-01), INITIALLY_SET enabled after one slot's bitmap exists and
     * before two others' (MANUAL-04): every event is a contract step.
     */
    @Test
    void manualProtectGetsClearsAndInitiallySetBitmapsConform() throws Exception {
        assertEachRecordedTraceConformsInOneBehaviour("CLEAR-01", "MANUAL-04");
    }

    /** Checks the recorded traces of {@code rules} in one TLC run: each is one behaviour, and it conforms. */
    private static void assertEachRecordedTraceConformsInOneBehaviour(String... rules) throws Exception {
        Map<String, List<String>> traces = new LinkedHashMap<>();
        for (String rule : rules) {
            traces.put(rule, recorded(rule));
        }
        Map<String, TraceValidator.Verdict> v = check(traces);
        for (String rule : rules) {
            assertEquals("conforms", v.get(rule).outcome(), rule + ": " + v.get(rule));
            assertEquals("trace conforms: 1 of 1 behaviour checked", v.get(rule).message(), rule);
        }
    }

    @Test
    void aManualGetThatLeavesOutAPageWrittenAndNotClearedIsRejectedForNoLostWrite() throws Exception {
        // Page 63 was written at seq 4, reported at seq 6 and not cleared at seq 8 (pages 2, 5, 64, 80 were): still owed at seq 11.
        List<String> lines = altered(recorded("CLEAR-01"), 11, "\"pages\":[0,5,63,65,70]", "\"pages\":[0,5,65,70]");
        TraceValidator.Verdict v = check(Map.of("CLEAR-01", lines)).get("CLEAR-01");
        assertEquals("rejected", v.outcome(), v.toString());
        assertEquals(Optional.of(11L), v.step());
        assertEquals("event seq 11 (KVM_GET_DIRTY_LOG) is no step of the contract: ManualGet(0, {0, 5, 65, 70}) is not "
                + "enabled in any state the events before it lead to; NoLostWrite: page 63 owed (written and not cleared "
                + "since) is not reported", v.message());
    }

    @Test
    void aManualGetReportingAClearedPageNobodyWroteAgainIsRejectedForPrecision() throws Exception {
        // Page 2 was cleared at seq 8 and not written since.
        List<String> lines = altered(recorded("CLEAR-01"), 9, "\"pages\":[0,63,65,70]", "\"pages\":[0,2,63,65,70]");
        TraceValidator.Verdict v = check(Map.of("CLEAR-01", lines)).get("CLEAR-01");
        assertEquals("rejected", v.outcome(), v.toString());
        assertEquals(Optional.of(9L), v.step());
        assertTrue(v.message().endsWith("; Precision: page 2 reported but neither owed nor written since it was last cleared"),
                v.message());
    }

    @Test
    void anInitiallySetBitmapThatAGetReportsIncompleteIsRejectedForNoLostWrite() throws Exception {
        // Slot 2 got its bitmap at seq 9 with INITIALLY_SET on: all of its 100 pages are owed at its first GET (seq 14).
        List<String> lines = altered(recorded("MANUAL-04"), 14, "\"pages\":[0,1,2,", "\"pages\":[0,2,");
        TraceValidator.Verdict v = check(Map.of("MANUAL-04", lines)).get("MANUAL-04");
        assertEquals("rejected", v.outcome(), v.toString());
        assertEquals(Optional.of(14L), v.step());
        assertTrue(v.message().endsWith("; NoLostWrite: page 1 owed (written and not cleared since) is not reported"),
                v.message());
    }

    /**
     * Manual protect while two vCPUs write at once (a hand-made trace): judged over the call
     * windows, a GET after a CLEAR of page 0 must still report page 1, written and never
     * cleared, and may not report page 0, cleared and not written again.
     */
    @Test
    void manualProtectWithConcurrentWritesIsJudgedOverWindowsForBothGuards() throws Exception {
        List<String> lines = recorded("MANUAL-windows");
        TraceValidator.Verdict ok = check(Map.of("CLEAR-09", lines)).get("CLEAR-09");
        assertEquals("conforms", ok.outcome(), ok.toString());
        assertTrue(ok.message().contains("over their recorded windows"), ok.message());

        TraceValidator.Verdict lost = check(Map.of("CLEAR-09", altered(lines, 8, "\"pages\":[1,2,3]", "\"pages\":[2,3]")))
                .get("CLEAR-09");
        assertEquals("rejected", lost.outcome(), lost.toString());
        assertEquals(Optional.of(8L), lost.step());
        assertTrue(lost.message().contains("NoLostWrite: page 1 of slot 0, written by vcpu1 in the KVM_RUN at seq 3"),
                lost.message());

        TraceValidator.Verdict imprecise = check(Map.of("CLEAR-09",
                altered(lines, 8, "\"pages\":[1,2,3]", "\"pages\":[0,1,2,3]"))).get("CLEAR-09");
        assertEquals("rejected", imprecise.outcome(), imprecise.toString());
        assertEquals(Optional.of(8L), imprecise.step());
        assertTrue(imprecise.message().contains("Precision: page 0 of slot 0 reported by a manual-protect GET"),
                imprecise.message());

        // A clearing harvest in the same behaviour: the windows cannot say which of it and the CLEAR took a write.
        List<String> mixed = new ArrayList<>(lines);
        mixed.add("{\"seq\":9,\"b\":0,\"actor\":\"vm\",\"op\":\"KVM_SWITCH_DIRTY_LOG\",\"t0\":80,\"t1\":81,\"slot\":0,\"ret\":1}");
        TraceValidator.Verdict notChecked = check(Map.of("CLEAR-09", mixed)).get("CLEAR-09");
        assertEquals("not checked", notChecked.outcome(), notChecked.toString());
        assertTrue(notChecked.message().contains("manual-protect GETs or CLEARs and clearing harvests in one behaviour"),
                notChecked.message());
    }

    /**
     * The dirty ring as recorded on reference-x86: whole ring harvests (every vCPU's ring
     * collected, then KVM_RESET_DIRTY_RINGS) of two slots on two vCPUs (RING-05), three rounds
     * of one page written twice (RING-07), and a ring that fills, where the write the vCPU
     * exited before may already be in the ring (RING-10): every event is a contract step.
     */
    @Test
    void wholeRingHarvestsConform() throws Exception {
        assertEachRecordedTraceConformsInOneBehaviour("RING-05", "RING-07", "RING-10");
    }

    @Test
    void aRingHarvestWhoseEntriesLeaveOutAWrittenPageIsRejectedAtTheResetForNoLostWrite() throws Exception {
        // Round two wrote pages 10 and 11 (seq 9); its collection (seq 10) took only page 10.
        List<String> lines = altered(recorded("RING-07"), 10, "\"pages\":[10,11]", "\"pages\":[10]");
        TraceValidator.Verdict v = check(Map.of("RING-07", lines)).get("RING-07");
        assertEquals("rejected", v.outcome(), v.toString());
        assertEquals(Optional.of(11L), v.step());
        assertEquals("event seq 11 (KVM_RESET_DIRTY_RINGS) is no step of the contract: HarvestReturn({10}) is not enabled "
                + "in any state the events before it lead to; NoLostWrite: page 11 owed when the harvest was invoked is "
                + "not reported", v.message());
        assertTrue(v.state().orElseThrow().contains("op |-> \"ring\""), v.state().orElseThrow());
    }

    @Test
    void aRingEntryForAPageNobodyWroteIsRejectedForPrecision() throws Exception {
        List<String> lines = altered(recorded("RING-07"), 13, "\"pages\":[10,11]", "\"pages\":[10,11,12]");
        TraceValidator.Verdict v = check(Map.of("RING-07", lines)).get("RING-07");
        assertEquals("rejected", v.outcome(), v.toString());
        assertEquals(Optional.of(14L), v.step());
        assertTrue(v.message().endsWith("; Precision: page 12 reported but neither owed nor written since the slot's "
                + "previous harvest"), v.message());
    }

    @Test
    void ringHarvestsThatAreNotWholeAreNotCheckedAndSayWhy() throws Exception {
        // RING-05 without the collection of vcpu1's ring (seq 15): the reset ends a partial harvest.
        List<String> partial = recorded("RING-05").stream().filter(l -> !l.startsWith("{\"seq\":15,")).toList();
        TraceValidator.Verdict p = check(Map.of("RING-05", partial)).get("RING-05");
        assertEquals("not checked", p.outcome(), p.toString());
        assertEquals("VM 0: KVM_RESET_DIRTY_RINGS at seq 16 after collecting the ring of vcpu 0 and not of vcpu 1: a "
                + "partial ring harvest, which the contract's harvests (every owed page reported) do not express",
                p.message());
        // RING-07 without its last reset (seq 14): entries taken and never reset.
        List<String> open = recorded("RING-07").stream().filter(l -> !l.startsWith("{\"seq\":14,")).toList();
        TraceValidator.Verdict o = check(Map.of("RING-07", open)).get("RING-07");
        assertEquals("not checked", o.outcome(), o.toString());
        assertTrue(o.message().contains("ring entries collected at seq 13 are never reset"), o.message());
    }

    /**
     * A guest write between a ring collection and its reset (a hand-made trace: page 1 written
     * and collected, page 2 written before the reset, then collected by the next harvest): the
     * harvest was invoked at its collection, so page 2 is not owed to it but to the next one.
     * With a second logged slot the one ring harvest cannot be placed per slot, and says so.
     */
    @Test
    void aWriteBetweenACollectionAndItsResetIsOwedToTheNextRingHarvest() throws Exception {
        List<String> lines = recorded("RING-writes-inside");
        TraceValidator.Verdict ok = check(Map.of("RING-07", lines)).get("RING-07");
        assertEquals("conforms", ok.outcome(), ok.toString());
        assertEquals("trace conforms: 1 of 1 behaviour checked", ok.message());

        TraceValidator.Verdict lost = check(Map.of("RING-07", altered(lines, 7, "\"pages\":[2]", "\"pages\":[]")))
                .get("RING-07");
        assertEquals("rejected", lost.outcome(), lost.toString());
        assertEquals(Optional.of(8L), lost.step());
        assertTrue(lost.message().endsWith("; NoLostWrite: page 2 owed when the harvest was invoked is not reported"),
                lost.message());

        List<String> twoSlots = new ArrayList<>(lines);
        twoSlots.add(2, lines.get(1).replace("\"seq\":1,", "\"seq\":100,").replace("\"t0\":2,\"t1\":3", "\"t0\":3,\"t1\":3")
                .replace("\"slot\":0,", "\"slot\":1,").replace("\"guest_phys_addr\":0,", "\"guest_phys_addr\":1048576,"));
        TraceValidator.Verdict skipped = check(Map.of("RING-07", twoSlots)).get("RING-07");
        assertEquals("not checked", skipped.outcome(), skipped.toString());
        assertTrue(skipped.message().contains("guest writes between the ring collection at seq 4 and KVM_RESET_DIRTY_RINGS "
                + "at seq 6 with 2 logged slots"), skipped.message());
    }

    /**
     * A ring harvested while a random writer runs on vcpu0 (pages 0-3) and vcpu1 writes page 8
     * in a KVM_RUN between two harvests (a hand-made trace): judged over the windows, the second
     * harvest must report page 8, and may report only pages a write could have dirtied.
     */
    @Test
    void ringHarvestsWhileVcpusWriteAreJudgedOverWindowsForBothGuards() throws Exception {
        List<String> lines = recorded("RING-windows");
        TraceValidator.Verdict ok = check(Map.of("RING-11", lines)).get("RING-11");
        assertEquals("conforms", ok.outcome(), ok.toString());
        assertEquals("trace conforms: 1 of 1 behaviour checked (1 with concurrent calls, over their recorded windows)",
                ok.message());

        TraceValidator.Verdict lost = check(Map.of("RING-11", altered(lines, 9, "\"pages\":[8]", "\"pages\":[]")))
                .get("RING-11");
        assertEquals("rejected", lost.outcome(), lost.toString());
        assertEquals(Optional.of(10L), lost.step());
        assertTrue(lost.message().startsWith("event seq 10 (ring harvest, KVM_RESET_DIRTY_RINGS) breaks the contract for "
                + "every order the recorded call windows allow: NoLostWrite: page 8 of slot 0, written by vcpu1 in the "
                + "KVM_RUN at seq 7"), lost.message());

        TraceValidator.Verdict imprecise = check(Map.of("RING-11", altered(lines, 8, "\"pages\":[2]",
                "\"pages\":[2,9]"))).get("RING-11");
        assertEquals("rejected", imprecise.outcome(), imprecise.toString());
        assertEquals(Optional.of(10L), imprecise.step());
        assertTrue(imprecise.message().contains("Precision: page 9 of slot 0 reported"), imprecise.message());

        TraceValidator.Verdict partial = check(Map.of("RING-11", altered(lines, 9, "\"vcpu\":1", "\"vcpu\":0")))
                .get("RING-11");
        assertEquals("not checked", partial.outcome(), partial.toString());
        assertTrue(partial.message().endsWith("over windows: KVM_RESET_DIRTY_RINGS (seq 10) ending a partial or failed "
                + "ring harvest"), partial.message());
    }

    @Test
    void aRejectedSequenceOfTheModelRuleIsNamedByItsVmAndTheOthersDoNotHideIt() throws Exception {
        List<String> model = recorded("MODEL-01-first-six");
        String get = model.stream().filter(l -> l.contains("\"op\":\"KVM_GET_DIRTY_LOG\"") && l.matches(".*\"pages\":\\[\\d+.*"))
                .findFirst().orElseThrow();
        long seq = Long.parseLong(get.replaceFirst("^\\{\"seq\":(\\d+),.*", "$1"));
        String vm = get.replaceFirst("^.*?\"b\":(\\d+),.*", "$1");
        String pages = get.replaceFirst("^.*\"pages\":\\[([0-9,]*)\\].*$", "$1");
        String firstPage = pages.split(",")[0];
        String rest = pages.contains(",") ? pages.substring(pages.indexOf(',') + 1) : "";
        List<String> lines = altered(model, seq, "\"pages\":[" + pages + "]", "\"pages\":[" + rest + "]");
        TraceValidator.Verdict v = check(Map.of("MODEL-01", lines)).get("MODEL-01");
        assertEquals("rejected", v.outcome(), v.toString());
        assertEquals(Optional.of(seq), v.step());
        assertTrue(v.message().startsWith("event seq " + seq + " (KVM_GET_DIRTY_LOG, VM " + vm + ")"), v.message());
        assertTrue(v.message().contains("NoLostWrite: page " + firstPage + " "), v.message());
    }

    @Test
    void concurrentWritesAreJudgedOverTheirCallWindowsAndAHarvestLeavingOutAPageWrittenBeforeItIsRejected()
            throws Exception {
        // RACE-03: four vCPUs write all 259 pages at once, then a GET; recorded, its calls overlap.
        TraceValidator.Verdict ok = check(Map.of("RACE-03", recorded("RACE-03"))).get("RACE-03");
        assertEquals("conforms", ok.outcome(), ok.toString());
        assertEquals("trace conforms: 1 of 1 behaviour checked (1 with concurrent calls, over their recorded windows)",
                ok.message());
        List<String> lines = altered(recorded("RACE-03"), 11, "\"pages\":[0,1,", "\"pages\":[1,");
        TraceValidator.Verdict v = check(Map.of("RACE-03", lines)).get("RACE-03");
        assertEquals("rejected", v.outcome(), v.toString());
        assertEquals(Optional.of(11L), v.step());
        assertTrue(v.message().startsWith("event seq 11 (KVM_GET_DIRTY_LOG) breaks the contract for every order the "
                + "recorded call windows allow: NoLostWrite: page 0 of slot 0, written by vcpu"), v.message());
    }

    @Test
    void overlappingCallsTheWindowsCannotJudgeAreNotCheckedAndTheReasonSaysWhy() throws Exception {
        // Logging turned off while the vCPUs of RACE-03 write: which side of it each write fell is unknown.
        List<String> lines = new ArrayList<>(recorded("RACE-03"));
        lines.add(8, lines.get(1).replace("\"seq\":1,", "\"seq\":1000,").replace("\"flags\":1", "\"flags\":0")
                .replace("\"t0\":303091", "\"t0\":10000000").replace("\"t1\":483158", "\"t1\":10000100"));
        TraceValidator.Verdict v = check(Map.of("RACE-03", lines)).get("RACE-03");
        assertEquals("not checked", v.outcome(), v.toString());
        assertTrue(v.message().endsWith("over windows: a memslot update (seq 1000) while vCPUs write: the windows do not say "
                + "which side of it each write fell"), v.message());
    }

    @Test
    void aBehaviourWhoseCallsOverlapIsJudgedOverItsWindowsInsteadOfInOneOrder() throws Exception {
        // The GET at seq 5 made to begin before the mmap at seq 4 returned.
        List<String> lines = altered(recorded("GET-02"), 5, "\"t0\":911105", "\"t0\":700000");
        TraceValidator.Verdict v = check(Map.of("GET-02", lines)).get("GET-02");
        assertEquals("conforms", v.outcome(), v.toString());
        assertEquals("trace conforms: 1 of 1 behaviour checked (1 with concurrent calls, over their recorded windows)",
                v.message());
    }

    @Test
    void aLineThatIsNotAnEventIsNotCheckedAndNamedInsteadOfFailingTheOthers() throws Exception {
        List<String> bad = new ArrayList<>(recorded("GET-02"));
        bad.add(3, "{\"seq\":99,\"op\":\"KVM_RUN\"}");
        Map<String, List<String>> traces = new LinkedHashMap<>();
        traces.put("GET-02", bad);
        traces.put("SWITCH-02", recorded("SWITCH-02"));
        Map<String, TraceValidator.Verdict> v = check(traces);
        assertEquals("not checked", v.get("GET-02").outcome());
        assertTrue(v.get("GET-02").message().startsWith("an event lacks seq, b or op: "), v.get("GET-02").message());
        assertEquals("conforms", v.get("SWITCH-02").outcome());
    }
}
