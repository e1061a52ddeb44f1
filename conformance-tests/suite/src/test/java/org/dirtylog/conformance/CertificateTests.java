package org.dirtylog.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CertificateTests {

    private static List<RuleResult> all(Verdict verdict) {
        return RuleCatalogue.rules().stream().map(r -> new RuleResult(r, verdict, "", "", "", List.of(), 0)).toList();
    }

    private static Certificate certificate(RunOptions options, List<RuleResult> results, Optional<String> interruption) {
        return new Certificate("b", "d", Optional.empty(), "v", options, List.of(), Instant.EPOCH, 1, results, interruption,
                new Environment("jdk", "os", "kernel", 2));
    }

    @Test
    void everyRulePassingAtEffortOneIsCertified() {
        Certificate c = certificate(RunOptions.withSeed(1), all(Verdict.PASS), Optional.empty());
        assertTrue(c.certified(), c.reason());
        assertTrue(c.reason().startsWith("certified: every rule of the catalogue reached a verdict at effort 1"), c.reason());
    }

    @Test
    void anEffortBelowOneIsNeverCertified() {
        Certificate c = certificate(RunOptions.withSeed(1).withEffort(0.99), all(Verdict.PASS), Optional.empty());
        assertFalse(c.certified());
        assertEquals("not certified: --effort 0.99 is below 1, the budget a certificate needs", c.reason());
    }

    @Test
    void aPatternThatSelectsEveryRuleIsNotASubset() {
        Certificate c = certificate(RunOptions.withSeed(1).withRules("*"), all(Verdict.PASS), Optional.empty());
        assertTrue(c.certified(), c.reason());
    }

    @Test
    void aRuleLeftOutIsAPartialRunEvenAShouldRule() {
        List<RuleResult> results = all(Verdict.PASS).stream().filter(r -> !r.rule().id().equals("PREC-01")).toList();
        Certificate c = certificate(RunOptions.withSeed(1).withRules("CAP-*"), results, Optional.empty());
        assertFalse(c.certified());
        assertEquals(List.of("PREC-01"), c.rulesNotRun());
        assertEquals(List.of(), c.mustRulesNotRun());
        int n = RuleCatalogue.rules().size();
        assertEquals("not certified: partial run: " + (n - 1) + " of " + n + " rules reached a verdict (--rules CAP-*)", c.reason());
    }

    @Test
    void anInterruptedRunIsNotCertifiedAndSaysWhereItStopped() {
        Certificate c = certificate(RunOptions.withSeed(1), all(Verdict.PASS).subList(0, 3),
                Optional.of("interrupted by the user while USER-ADDR-02 ran"));
        assertFalse(c.certified());
        assertTrue(c.reason().startsWith("not certified: interrupted by the user while USER-ADDR-02 ran; partial run: "
                + "3 of " + RuleCatalogue.rules().size() + " rules"), c.reason());
    }

    @Test
    void notApplicableIsAVerdictAndErrorIsNot() {
        assertTrue(certificate(RunOptions.withSeed(1), all(Verdict.NOT_APPLICABLE), Optional.empty()).certified());
        Certificate c = certificate(RunOptions.withSeed(1), all(Verdict.ERROR), Optional.empty());
        assertFalse(c.certified());
        assertTrue(c.reason().startsWith("not certified: CAP-01 ERROR, CAP-02 ERROR"), c.reason());
    }

    private static List<RuleResult> passingBut(String id, Verdict verdict) {
        return all(Verdict.PASS).stream().map(r -> r.rule().id().equals(id)
                ? new RuleResult(r.rule(), verdict, "page 7 of slot 0 by h1.3, not written since h1.2 began", "", "", List.of(), 0)
                : r).toList();
    }

    @Test
    void aShouldRuleThatFailsCertifiesWithAWarningShownFirstInEveryReport() {
        Rule prec = RuleCatalogue.byId("PREC-01").orElseThrow();
        assertEquals(Level.SHOULD, prec.level(), "PREC-01 is the SHOULD this test is about");
        Certificate c = certificate(RunOptions.withSeed(1), passingBut("PREC-01", Verdict.FAIL), Optional.empty());
        assertTrue(c.certified(), c.reason());
        assertEquals(List.of("PREC-01 (SHOULD) FAIL: page 7 of slot 0 by h1.3, not written since h1.2 began"), c.warnings());
        assertTrue(c.reason().endsWith("SHOULD not met: PREC-01"), c.reason());

        var json = org.dirtylog.conformance.report.CertificateJson.toJson(c);
        assertTrue(json.get("certified").asBoolean());
        assertEquals(c.warnings().get(0), json.get("warnings").get(0).asText());
        List<String> fields = new java.util.ArrayList<>();
        json.fieldNames().forEachRemaining(fields::add);
        assertTrue(fields.indexOf("warnings") < fields.indexOf("rules"), fields::toString);

        String html = org.dirtylog.conformance.report.HtmlReport.render(c);
        int verdict = html.indexOf("id=\"verdict\">CERTIFIED</p>");
        int warning = html.indexOf("id=\"warning\">Warning: PREC-01 (SHOULD) FAIL");
        assertTrue(verdict > 0 && warning > verdict && warning < html.indexOf("<h1>"), html);

        String xml = org.dirtylog.conformance.report.JunitXml.render(c);
        assertTrue(xml.contains("failures=\"0\""), xml);
        assertTrue(xml.contains("<skipped message=\"warning: SHOULD not met: page 7"), xml);
    }

    @Test
    void aMustRuleThatFailsAndAShouldRuleInErrorAreNotCertified() {
        Certificate must = certificate(RunOptions.withSeed(1), passingBut("RACE-02", Verdict.FAIL), Optional.empty());
        assertFalse(must.certified());
        assertEquals("not certified: RACE-02 FAIL", must.reason());
        assertEquals(List.of(), must.warnings());
        // An ERROR means the rule could not judge: less was checked, whatever its level.
        Certificate error = certificate(RunOptions.withSeed(1), passingBut("PREC-01", Verdict.ERROR), Optional.empty());
        assertFalse(error.certified());
        assertEquals("not certified: PREC-01 ERROR", error.reason());
    }
}
