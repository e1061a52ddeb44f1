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
}
